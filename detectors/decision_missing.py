"""大额支出无决策记录 / 补做会议记录: a contract above the decision limit with no decision before its payment."""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.examples import Example, V, contract
from sanzi_audit.entities import work_of

from .base import Detector, DetectorInput, Lead, Params, wan, ymd


class DecisionParams(Params):
    amount_tolerance: float = Field(0.25, ge=0, le=1, description="A decision whose amount is within this share of "
                                    "the contract's, naming its work, is that contract's (budget and award differ)")
    lookback_days: int = Field(365, ge=1, description="A decision up to this many days before signing can be the "
                               "contract's")


class DecisionMissing(Detector):
    name = "decision_missing"
    version = "1.0"
    title = "大额支出无决策记录"
    description = (
        "For each contract at or above the decision limit (thresholds.decision_limit, else the category's tender "
        "limit), looks for its decision record (decisions table): by the contract's number or decision_ref, else a "
        "record of the village naming its work with an amount within amount_tolerance. Flags a contract with none "
        "(大额支出未经民主决策), one whose record is dated after the first payment (补做会议记录), and one whose record "
        "says it was not passed. Basis: 四议两公开 (村级重大事项须经村民代表会议决定); 《农村集体经济组织财务制度》 on "
        "democratic approval of large spending. Runs only where the county supplies decision records.")
    requires = ("contracts", "decisions")
    uses = ("ledger",)
    views = ("contract_links", "payments")
    Params = DecisionParams

    examples = (
        Example("12万元 工程合同，没有任何村民代表会议决议",
                {"contracts": [contract("HT3", "2024-05-01", 120000, "演示县甲建筑有限公司", title="5组文化礼堂修缮工程",
                                        method="公开招标")],
                 "decisions": [], "ledger": []}, leads=1),
        Example("15万元 工程合同，签约前已有决议（预算 16万元）",
                {"contracts": [contract("HT1", "2024-05-01", 150000, "演示县甲建筑有限公司", decision_ref="ZB1",
                                        method="公开招标")],
                 "decisions": [dict(decision_id="ZB1", village_code=V, meeting_date="2024-04-10",
                                    subject="关于3组道路硬化工程的决议", amount=160000, result="通过")],
                 "ledger": []}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        c, d = data["contracts"], data["decisions"]
        if c.empty:
            return []
        limit = pd.Series([self._limit(data, v, cat) for v, cat in zip(c["village_code"], c["category"], strict=True)],
                          index=c.index)
        c = c[c["amount"] >= limit]
        if c.empty:
            return []
        first_pay: dict = {}
        pay_ids: dict = {}
        if data.has("ledger") and not data.payments.empty:
            link = data.contract_links
            p = data.payments.assign(contract=link)[link.notna().to_numpy()].sort_values(["entry_date", "entry_id"])
            first = p.drop_duplicates("contract")
            first_pay = dict(zip(first["contract"], first["entry_date"], strict=True))
            pay_ids = dict(zip(first["contract"], first["entry_id"], strict=True))
        by_id = d.drop_duplicates("decision_id").set_index("decision_id")
        by_contract = d[d["contract_no"].notna()].sort_values("meeting_date").drop_duplicates("contract_no").set_index("contract_no")
        d_by_village = dict(tuple(d.groupby("village_code", sort=False)))
        leads = []
        for k in c.sort_values(["village_code", "contract_no"]).itertuples():
            rec = None
            if k.contract_no in by_contract.index:
                rec = by_contract.loc[k.contract_no]
            elif isinstance(k.decision_ref, str) and k.decision_ref in by_id.index:
                rec = by_id.loc[k.decision_ref]
            else:
                rec = self._by_subject(d_by_village.get(k.village_code), k)
            due = min(x for x in (first_pay.get(k.contract_no), k.sign_date) if x is not None and x == x)
            what = "、".join(x for x in (k.title, k.vendor) if isinstance(x, str))
            evidence = [("contracts", k.contract_no)] + ([("ledger", pay_ids[k.contract_no])] if k.contract_no in pay_ids else [])
            if rec is None:
                kind, score = "无决策记录", 0.6
                text = (f"合同 {k.contract_no}（{what}，{wan(float(k.amount))}，{ymd(k.sign_date)} 签订）达到民主决策限额 "
                        f"{wan(self._limit(data, k.village_code, k.category))}，但民主决策记录中找不到对应的决议"
                        + (f"（合同登记的决策记录编号 {k.decision_ref} 不在记录中）" if isinstance(k.decision_ref, str) else "")
                        + "。")
            else:
                evidence.append(("decisions", str(rec["decision_id"] if "decision_id" in rec.index else rec.name)))
                passed = not (isinstance(rec["result"], str) and ("未通过" in rec["result"] or "否决" in rec["result"]))
                if not passed:
                    kind, score = "决议未通过仍实施", 0.75
                    text = (f"合同 {k.contract_no}（{what}，{wan(float(k.amount))}）对应的决议（{ymd(rec['meeting_date'])}，"
                            f"“{rec['subject'] or ''}”）表决结果为“{rec['result']}”，合同仍签订并付款。")
                elif rec["meeting_date"] > due:
                    kind, score = "决策晚于付款", 0.65
                    text = (f"合同 {k.contract_no}（{what}，{wan(float(k.amount))}）的决议日期 {ymd(rec['meeting_date'])} 晚于"
                            f"签订或首次付款 {ymd(due)}，可能是事后补做会议记录。")
                else:
                    continue
            leads.append(self.lead(
                village_code=k.village_code, score=score, amount_at_risk=float(k.amount),
                title=f"大额支出{kind}疑点：{k.title or k.contract_no} {wan(float(k.amount))}",
                explanation=(text + "村级重大事项须经四议两公开，建议调阅会议记录原件、签到表和公开记录；若决议以其他名称或"
                             "编号记载（如年度预算中已经表决），可据会议记录排除。"),
                evidence=evidence, key=("decision", str(k.contract_no)), details=dict(kind=kind)))
        return leads

    def _limit(self, data: DetectorInput, village: str, category) -> float:
        th = data.config.thresholds_for(village)
        return th.decision_limit if th.decision_limit else th.tender_limit_for(category)

    def _by_subject(self, d: pd.DataFrame | None, k):
        if d is None or d.empty:
            return None
        work = work_of(k.title)
        lo = k.sign_date - pd.Timedelta(days=self.params.lookback_days)
        tol = self.params.amount_tolerance
        cand = d[(d["meeting_date"] >= lo) & (d["amount"].isna() | ((d["amount"] - k.amount).abs() <= tol * k.amount))]
        if work:
            cand = cand[cand["subject"].fillna("").str.contains(work, regex=False)]
        else:
            return None
        return None if cand.empty else cand.sort_values("meeting_date").iloc[0]
