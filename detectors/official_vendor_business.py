"""干部亲属经商办企业与本村交易: a cadre or close relative behind the business the village pays."""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.examples import Example, contract, official_row
from sanzi_audit.entities import make_normaliser

from .base import Detector, DetectorInput, Lead, Params, wan, ymd
from .program_rules import held_on


class OfficialVendorParams(Params):
    min_amount: float = Field(1000.0, ge=0, description="Businesses paid or contracted less than this (元) are left out")


class OfficialVendorBusiness(Detector):
    name = "official_vendor_business"
    version = "1.0"
    title = "干部亲属经营企业承揽本村业务"
    description = (
        "Joins the village's contract vendors and ledger payees (by 统一社会信用代码, else by registered name) with the "
        "people registered behind each business (business_people: 法定代表人, 股东, 监事, 经营者), and flags a "
        "business where a cadre or close relative of that village held such a role on the contract's signing date "
        "or the payment date. The company in a relative's name is how 优亲厚友 hides from a payee roster check "
        "(全椒: a cooperative in a cadre's wife's name sold seedlings to the village). Basis: 回避 rules and "
        "四议两公开; 招标投标法实施条例 §34 for tendered works.")
    requires = ("business_people", "officials")
    uses = ("ledger", "contracts", "businesses")
    views = ("official_labels", "payments")
    uses_payee = True
    Params = OfficialVendorParams

    examples = (
        Example("承包方公司的股东是村委会主任的配偶（签约时在任股东）",
                {"contracts": [contract("HT1", "2024-03-01", 80000, "演示县甲建筑有限公司", vendor_id="91330599MA2B00001X")],
                 "business_people": [dict(link_id="L1", uscc="91330599MA2B00001X", person_id="330599196201010026",
                                          name="王芳", role="股东", start_date="2022-01-01")],
                 "businesses": [dict(uscc="91330599MA2B00001X", name="演示县甲建筑有限公司")],
                 "officials": [official_row("330599196001010015", "刘大", "村委会主任"),
                               official_row("330599196201010026", "王芳", None, "330599196001010015", "配偶")]},
                leads=1),
        Example("干部之子签约前已不再担任该公司法定代表人",
                {"contracts": [contract("HT2", "2024-05-01", 60000, "演示县乙建筑有限公司", vendor_id="91330599MA2B00002Y")],
                 "business_people": [dict(link_id="L2", uscc="91330599MA2B00002Y", person_id="330599198801010037",
                                          name="赵小", role="法定代表人", start_date="2019-01-01", end_date="2023-12-31")],
                 "businesses": [dict(uscc="91330599MA2B00002Y", name="演示县乙建筑有限公司")],
                 "officials": [official_row("330599195501010048", "赵老", "村委会委员"),
                               official_row("330599198801010037", "赵小", None, "330599195501010048", "子女")]},
                leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        bp = data["business_people"]
        o = data["officials"]
        if bp.empty or o.empty:
            return []
        labels = data.official_labels
        bp = bp[bp["person_id"].isin(set(o["person_id"]))]
        if bp.empty:
            return []
        names = data["businesses"].set_index("uscc")["name"] if data.has("businesses") else pd.Series(dtype="object")
        norm = make_normaliser(data.config.region.name)
        by_name = {}
        if len(names):
            nn = norm(pd.Series(names.to_numpy()))
            by_name = dict(zip(nn, names.index, strict=True))
        deals = []
        if data.has("contracts"):
            k = data["contracts"]
            uscc = k["vendor_id"].where(k["vendor_id"].isin(set(bp["uscc"])),
                                        norm(k["vendor"]).map(by_name).where(k["vendor"].notna()).to_numpy())
            deals.append(pd.DataFrame({"table": "contracts", "rid": k["contract_no"], "village_code": k["village_code"],
                                       "uscc": uscc, "date": k["sign_date"], "amount": k["amount"],
                                       "what": k["title"], "party": k["vendor"]}))
        if data.has("ledger"):
            p = data.payments
            uscc = p["counterparty_id"].where(p["counterparty_id"].isin(set(bp["uscc"])),
                                              norm(p["counterparty"]).map(by_name).to_numpy())
            deals.append(pd.DataFrame({"table": "ledger", "rid": p["entry_id"], "village_code": p["village_code"],
                                       "uscc": uscc, "date": p["entry_date"], "amount": p["debit"],
                                       "what": p["summary"], "party": p["counterparty"]}))
        if not deals:
            return []
        d = pd.concat(deals, ignore_index=True)
        d = d[d["uscc"].isin(set(bp["uscc"]))]
        if d.empty:
            return []
        off_village = o.drop_duplicates("person_id").set_index("person_id")["village_code"]
        h = d.merge(bp[["uscc", "person_id", "name", "role", "start_date", "end_date", "link_id"]], on="uscc")
        h = h[held_on(h["date"], h["start_date"], h["end_date"]) & (h["person_id"].map(off_village) == h["village_code"])]
        if h.empty:
            return []
        leads = []
        for (village, uscc), g in h.groupby(["village_code", "uscc"], sort=True):
            contracts = g[g["table"] == "contracts"].drop_duplicates("rid")
            pays = g[g["table"] == "ledger"].drop_duplicates("rid")
            total = float(contracts["amount"].sum()) if len(contracts) else float(pays["amount"].sum())
            if total < self.params.min_amount:
                continue
            people = g.drop_duplicates("person_id")
            who = "；".join(f"{r.name}（{labels.get(r.person_id, '村干部近亲属')}）任{r.role}" for r in people.itertuples())
            bname = names.get(uscc, g["party"].dropna().iat[0] if g["party"].notna().any() else uscc)
            first = g.sort_values("date").iloc[0]
            own = any(labels.get(x, "").endswith("本人") for x in people["person_id"])
            score = 0.65 + (0.1 if len(contracts) else 0.0) + (0.1 if own else 0.0)
            deal = (f"合同 {len(contracts)} 份（{wan(float(contracts['amount'].sum()))}）" if len(contracts) else "") + \
                (f"{'，' if len(contracts) else ''}付款 {len(pays)} 笔（{wan(float(pays['amount'].sum()))}）" if len(pays) else "")
            leads.append(self.lead(
                village_code=village, score=round(min(0.95, score), 4), amount_at_risk=total,
                title=f"干部亲属经营企业承揽本村业务疑点：{bname}（{people['name'].iat[0]}任{people['role'].iat[0]}）",
                explanation=(f"本村与 {bname}（{uscc}）有{deal}，首次 {ymd(first['date'])}。据市场主体登记，当时 {who}。"
                             "村干部及近亲属经营的企业承揽本村工程、采购或租赁，应当回避并经四议两公开，建议调阅民主决策和"
                             "公开记录、核实价格是否公允；若已按规定回避并公开、经公开招标确定，可据决策与招标记录排除。"),
                evidence=[(t, r) for t, r in zip(g["table"], g["rid"], strict=True)] +
                         [("business_people", x) for x in people["link_id"]],
                key=("vendor_business", str(uscc)),
                details=dict(business=bname, people=list(people["person_id"]), contracts=len(contracts),
                             payments=len(pays))))
        return leads
