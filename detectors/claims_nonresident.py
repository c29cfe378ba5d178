"""虚报冒领: claimants who are not on the village roster, belong to another village, or carry an invalid ID."""

from __future__ import annotations

from pydantic import Field

from sanzi_audit.detectors.examples import Example, claim, resident
from sanzi_audit.identifiers import ric_valid_mask

from .base import Detector, DetectorInput, Lead, Params, wan

_REASONS = {
    "missing": ("不在村民名册中", 0.85),
    "elsewhere": ("登记在其他村", 0.7),
    "invalid_id": ("身份证号校验不通过", 0.75),
    "before_move": ("领取时尚未迁入本村", 0.6),
}


class NonresidentParams(Params):
    min_amount: float = Field(0.0, ge=0, description="Ignore claimants paid less than this in total (元)")


class ClaimsNonresident(Detector):
    name = "claims_nonresident"
    version = "1.1"
    default_weight = 0.9
    title = "非本村人员领取补贴"
    scope = "population"  # a claimant is looked up in every village's residents
    description = (
        "Flags subsidy claimants whose ID is not on any village roster, is registered in another village than the "
        "one paying, or fails the GB 11643 check digit, per claimant and paying village. Basis: cases of cadres' "
        "parents registered in another township put on a village's list, and of invented names on 低保 rolls; "
        "纪委 platforms match every roll against 户籍 by ID number. A person who moved in (迁入 with a date) is a "
        "resident from that date: claims after the move are theirs, claims before it are flagged.")
    requires = ("claims", "residents")
    Params = NonresidentParams

    examples = (
        Example("领取人不在任何户籍名册上",
                {"residents": [resident("11010519491231002X", "张三")],
                 "claims": [claim("a", "110105194912310038", "李四", "2024-06-15", 240, "城乡居民基础养老金",
                                  period="2024-06")]}, leads=1),
        Example("领取人在本村名册上",
                {"residents": [resident("11010519491231002X", "张三")],
                 "claims": [claim("a", "11010519491231002X", "张三", "2024-06-15", 240, "城乡居民基础养老金",
                                  period="2024-06")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        c = data["claims"]
        r = data["residents"]
        # a person has a row per village they belonged to: resident here on the pay date unless they only moved in
        # later (迁入 with a date after it); their moving out or dying is claims_after_exit's business
        roster = r[["person_id", "village_code", "status", "status_date"]].drop_duplicates(["person_id", "village_code"])
        here = c[["claimant_id", "village_code", "pay_date"]].merge(  # one row per claim, in the claims' order
            roster, left_on=["claimant_id", "village_code"], right_on=["person_id", "village_code"], how="left")
        not_yet = ((here["status"] == "迁入") & here["status_date"].notna()
                   & (here["pay_date"] < here["status_date"])).to_numpy()
        listed = here["person_id"].notna().to_numpy()
        member = listed & ~not_yet
        early = listed & not_yet
        rows = r.dropna(subset=["person_id"]).drop_duplicates(["person_id", "village_code"])
        rows = rows.sort_values(["person_id", "village_code"])
        homes = rows.drop_duplicates("person_id").set_index("person_id")["village_code"].astype("object")
        movers = rows[rows["person_id"].duplicated(keep=False)]  # a few: on two rosters
        if len(movers):
            homes.update(movers.groupby("person_id")["village_code"].agg("、".join))
        home = c["claimant_id"].map(homes)
        valid = ric_valid_mask(c["claimant_id"])
        kind = home.map(lambda _: None).astype("object")
        kind[home.isna()] = "missing"
        kind[home.notna().to_numpy() & ~member] = "elsewhere"
        kind[early] = "before_move"
        kind[~valid] = "invalid_id"
        c = c.assign(kind=kind, home=home)[kind.notna()]
        leads = []
        for (village, pid), g in c.groupby(["village_code", "claimant_id"], sort=True):
            total = float(g["amount"].sum())
            if total < self.params.min_amount:
                continue
            k = g["kind"].iloc[0]
            why, score = _REASONS[k]
            where = f"（户籍在 {g['home'].iloc[0]}）" if k in ("elsewhere", "before_move") else ""
            name = g["claimant_name"].iloc[0] or pid
            evidence = [("claims", x) for x in g["claim_id"]] + ([("residents", pid)] if k in ("elsewhere", "before_move")
                                                                 else [])
            leads.append(self.lead(
                village_code=village, score=score, amount_at_risk=total,
                title=f"非本村人员领取补贴疑点：{name} {why}，{len(g)} 笔 {wan(total)}",
                explanation=(f"领取人 {name}（身份证号 {pid}）{why}{where}，却在本村领取 "
                             f"{'、'.join(sorted(g['program'].unique()))} {len(g)} 笔，合计 {wan(total)}。"
                             f"建议核对户籍与补贴资格审核材料；若为新迁入或名册漏登人员，可据户籍变更记录排除。"),
                evidence=evidence, key=("nonresident", pid), details=dict(reason=k, payments=len(g))))
        return leads
