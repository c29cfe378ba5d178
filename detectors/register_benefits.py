"""数据碰撞: 低保 and other selective programs drawn by households the registers show are not eligible."""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.examples import Example, claim, resident

from .base import Detector, DetectorInput, Lead, Params, wan, ymd
from .program_rules import held_on, programs_of

_BUSINESS_ROLES = ("法定代表人", "股东", "经营者", "负责人", "投资人")


class RegisterBenefitsParams(Params):
    score: float = Field(0.55, ge=0, le=1, description="Score of a lead with one reason; moderate, as registers "
                         "are noisy (潜江: 30,000 of 50,000+ hits went to 规范整改, not cases)")
    max_rows: int = Field(12, ge=1, description="Claims listed in one lead's explanation")


class RegisterBenefits(Detector):
    name = "register_benefits"
    version = "1.0"
    title = "不符条件享受救助"
    description = (
        "For each claim on a program whose county rules exclude someone (config programs.<name>.excludes), checks the "
        "claimant's household (residents.household_id; the claimant alone without a roster) against the registers "
        "supplied, as they stood on the pay date: a member paid from public funds (public_employees), a vehicle worth "
        "at least vehicle_min_value that is not a farm or invalid vehicle (vehicles), more properties than "
        "max_properties (properties), a 法定代表人/股东/经营者 of a business not yet cancelled (business_people, "
        "businesses). This is the core of the 数据碰撞 of 随州, 岷县, 湖北 and 眉山 (《社会救助暂行办法》 and "
        "provincial 低保 rules: income and property tests).")
    requires = ("claims",)
    uses = ("residents", "public_employees", "vehicles", "properties", "businesses", "business_people")
    Params = RegisterBenefitsParams

    examples = (
        Example("低保户的妻子名下有一辆 12万元 的小轿车",
                {"claims": [claim("C1", "330599197001010011", "张三", "2024-03-15", 780.0, "最低生活保障金",
                                  period="2024-03")],
                 "residents": [resident("330599197001010011", "张三"), resident("330599197201010022", "李四")],
                 "vehicles": [dict(plate_no="浙J10001", owner_id="330599197201010022", owner_name="李四",
                                   vehicle_type="小型轿车", value=120000, reg_date="2020-01-01")]}, leads=1),
        Example("低保户名下只有三轮农用车、一处自住房，曾任教师已于 2022 年离职",
                {"claims": [claim("C2", "330599197301010033", "王五", "2024-03-15", 780.0, "最低生活保障金",
                                  period="2024-03")],
                 "residents": [resident("330599197301010033", "王五", household_id="H2")],
                 "vehicles": [dict(plate_no="浙J10002", owner_id="330599197301010033", owner_name="王五",
                                   vehicle_type="三轮农用车", value=8000, reg_date="2020-01-01")],
                 "public_employees": [dict(person_id="330599197301010033", name="王五", employer="演示县第一中学",
                                           start_date="2008-09-01", end_date="2022-07-31")],
                 "properties": [dict(property_id="P1", owner_id="330599197301010033", address="本村",
                                     reg_date="2020-01-01")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        regs = [t for t in ("public_employees", "vehicles", "properties", "business_people") if data.has(t)]
        c = data["claims"]
        if c.empty or not regs:
            return []
        prog = programs_of(data, c)
        rules = {k: p.excludes for k, p in data.config.programs.items()}
        c = c.assign(key=prog["key"])
        c = c[c["key"].map(lambda k: k in rules and _excludes_any(rules[k])).astype(bool)]
        if c.empty:
            return []
        members = _members(data, c)  # claim_id → household member ids (the claimant included)
        m = c[["claim_id", "claimant_id", "pay_date", "key"]].merge(members, on="claim_id")
        reasons: list[pd.DataFrame] = []
        if data.has("public_employees"):
            pe = data["public_employees"]
            h = m.merge(pe, left_on="member", right_on="person_id")
            h = h[held_on(h["pay_date"], h["start_date"], h["end_date"]) & h["key"].map(lambda k: rules[k].public_employees).astype(bool)]
            reasons.append(h.assign(table="public_employees", rid=h["person_id"],
                                    why=h["name"].fillna("") + "为财政供养人员（" + h["employer"].fillna("")
                                    + h["position"].fillna("") + "）"))
        if data.has("vehicles"):
            v = data["vehicles"]
            h = m.merge(v, left_on="member", right_on="owner_id")
            # float even when no vehicle matched: an empty map keeps the key's string dtype, which won't compare
            floor = h["key"].map(lambda k: rules[k].vehicle_min_value).astype("float64")
            exempt = h.apply(lambda r: any(w in str(r["vehicle_type"] or "") for w in rules[r["key"]].vehicle_exempt_types),
                             axis=1) if len(h) else pd.Series(dtype=bool)
            ok_value = floor.notna() & ((floor <= 0) | (h["value"].fillna(0) >= floor))
            h = h[held_on(h["pay_date"], h["reg_date"], h["dereg_date"]) & ok_value & ~exempt.astype(bool)]
            reasons.append(h.assign(table="vehicles", rid=h["plate_no"],
                                    why=h["owner_name"].fillna("") + "名下有车辆 " + h["plate_no"] + "（"
                                    + h["vehicle_type"].fillna("")
                                    + h["value"].map(lambda x: f"，价值 {wan(x)}" if x == x else "").astype("object").astype(str)
                                    + "）"))
        if data.has("properties"):
            p = data["properties"]
            h = m.merge(p, left_on="member", right_on="owner_id")
            h = h[held_on(h["pay_date"], h["reg_date"], h["end_date"])]
            count = h.groupby("claim_id")["property_id"].transform("nunique")
            cap = h["key"].map(lambda k: rules[k].max_properties).astype("float64")
            h = h[cap.notna() & (count > cap)]
            reasons.append(h.assign(table="properties", rid=h["property_id"],
                                    why="家庭名下房产 " + count.reindex(h.index).astype("Int64").astype(str) + " 处"))
        if data.has("business_people"):
            bp = data["business_people"]
            bp = bp[bp["role"].fillna("").str.contains("|".join(_BUSINESS_ROLES))]
            h = m.merge(bp, left_on="member", right_on="person_id")
            h = h[held_on(h["pay_date"], h["start_date"], h["end_date"]) & h["key"].map(lambda k: rules[k].businesses).astype(bool)]
            if data.has("businesses") and len(h):
                b = data["businesses"].set_index("uscc")
                cancel = h["uscc"].map(b["cancel_date"])
                h = h[cancel.isna() | (cancel > h["pay_date"])].assign(bname=h["uscc"].map(b["name"]))
            else:
                h = h.assign(bname=h["uscc"])
            reasons.append(h.assign(table="business_people", rid=h["link_id"],
                                    why=h["name"].fillna("") + "为" + h["bname"].fillna("") + "的" + h["role"].fillna("")))
        hits = pd.concat([r[["claim_id", "table", "rid", "why"]] for r in reasons if len(r)], ignore_index=True) \
            if any(len(r) for r in reasons) else pd.DataFrame()
        if hits.empty:
            return []
        c = c[c["claim_id"].isin(set(hits["claim_id"]))]
        leads = []
        for (village, pid, key), g in c.groupby(["village_code", "claimant_id", "key"], sort=True):
            g = g.sort_values(["pay_date", "claim_id"])
            h = hits[hits["claim_id"].isin(set(g["claim_id"]))].drop_duplicates(["table", "rid"])
            whys = list(dict.fromkeys(h["why"]))
            total = float(g["amount"].sum())
            name = g["claimant_name"].dropna().iat[0] if g["claimant_name"].notna().any() else pid
            score = self.params.score + 0.1 * min(3, len(set(h["table"])) - 1) + 0.02 * min(5, len(g) - 1)
            leads.append(self.lead(
                village_code=village, score=round(min(0.9, score), 4), amount_at_risk=total,
                title=f"不符条件享受救助疑点：{name} 领取{key}，{'；'.join(whys[:2])}",
                explanation=(f"{name}（{pid}）领取{key} {len(g)} 笔、合计 {wan(total)}（{ymd(g['pay_date'].iat[0])} 至 "
                             f"{ymd(g['pay_date'].iat[-1])}）。比对部门登记数据，发放日其家庭: {'；'.join(whys)}。按县配置，"
                             f"{key}不得由此类家庭享受，建议核查家庭经济状况核对报告和评议记录；若登记信息已过期（车辆已转让、"
                             "房产已出售、已离职或营业执照已注销但未更新），或该成员不在救助家庭内，可据证明材料排除。"),
                evidence=[("claims", x) for x in g["claim_id"]] + [(t, r) for t, r in zip(h["table"], h["rid"], strict=True)],
                key=("register", str(pid), str(key)),
                details=dict(program=key, reasons=whys, registers=sorted(set(h["table"])))))
        return leads


def _excludes_any(x) -> bool:
    return bool(x.public_employees or x.vehicle_min_value is not None or x.max_properties is not None or x.businesses)


def _members(data: DetectorInput, c: pd.DataFrame) -> pd.DataFrame:
    """claim_id → every member of the claimant's household on the roster (the claimant alone when not on it)."""
    own = pd.DataFrame({"claim_id": c["claim_id"], "member": c["claimant_id"]})
    if not data.has("residents"):
        return own
    r = data["residents"]
    r = r[r["household_id"].notna()]
    house = r.drop_duplicates("person_id").set_index("person_id")["household_id"]
    fam = pd.DataFrame({"claim_id": c["claim_id"], "household_id": c["claimant_id"].map(house)}).dropna()
    fam = fam.merge(r[["household_id", "person_id"]].drop_duplicates(), on="household_id")
    return pd.concat([own, fam.rename(columns={"person_id": "member"})[["claim_id", "member"]]],
                     ignore_index=True).drop_duplicates()
