"""补签合同 / 先付后签: a contract signed after the village had already paid on it."""

from __future__ import annotations

from pydantic import Field

from sanzi_audit.detectors.examples import Example, contract, pay

from .base import Detector, DetectorInput, Lead, Params, wan, ymd


class SignedLateParams(Params):
    min_days: int = Field(7, ge=0, description="A first payment more than this many days before signing is flagged")
    min_amount: float = Field(1000.0, ge=0, description="Payments before signing below this total (元) are left out")


class ContractSignedLate(Detector):
    name = "contract_signed_late"
    version = "1.0"
    title = "先付款后签合同"
    description = (
        "Flags a contract whose first payment (ledger lines naming it in the contract-number column or 摘要, as "
        "data.contract_links reads them) came more than min_days before its sign_date: the contract was written "
        "after the money went out (补签合同), so the decision and the price it records were not what decided the "
        "payment. Basis: approvals and contracts must precede payment (三资智慧监管系统 rules; 纪委 cases of 补签合同 and "
        "补做会议记录).")
    requires = ("ledger", "contracts")
    views = ("contract_links", "payments")
    Params = SignedLateParams

    examples = (
        Example("工程款 4月20日 预付，合同 6月1日 才签（签订前 42 天付款）",
                {"contracts": [contract("HT1", "2024-06-01", 50000, "演示县甲建筑有限公司")],
                 "ledger": [pay("P1", "2024-04-20", 20000.0, "演示县甲建筑有限公司", "153003", contract_no="HT1",
                                summary="预付款")]}, leads=1),
        Example("签约前 3 天付预付款",
                {"contracts": [contract("HT2", "2024-06-01", 40000, "演示县乙建筑有限公司", title="4组排水沟修建工程")],
                 "ledger": [pay("P2", "2024-05-29", 12000.0, "演示县乙建筑有限公司", "153003", contract_no="HT2",
                                summary="预付款")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        pay = data.payments
        if pay.empty:
            return []
        link = data.contract_links
        pay = pay.assign(contract=link)[link.notna().to_numpy()]
        if pay.empty:
            return []
        c = data["contracts"].drop_duplicates("contract_no").set_index("contract_no")
        pay = pay.assign(sign=pay["contract"].map(c["sign_date"]))
        early = pay[(pay["sign"] - pay["entry_date"]).dt.days > self.params.min_days]
        leads = []
        for cno, g in early.groupby("contract", sort=True):
            total = float(g["debit"].sum())
            if total < self.params.min_amount:
                continue
            k = c.loc[cno]
            g = g.sort_values(["entry_date", "entry_id"])
            days = int((k["sign_date"] - g["entry_date"].iat[0]).days)
            shown = "；".join(f"{ymd(r.entry_date)} {r.voucher_no} 号凭证 {wan(r.debit)}" for r in g.head(10).itertuples())
            leads.append(self.lead(
                village_code=k["village_code"], score=round(min(0.85, 0.55 + days / 400), 4), amount_at_risk=total,
                title=f"先付款后签合同疑点：{k['title'] or cno} 签订前 {days} 天已付款 {wan(total)}",
                explanation=(f"合同 {cno}（{k['title'] or ''}，{k['vendor'] or ''}，{wan(float(k['amount']))}）签订于 "
                             f"{ymd(k['sign_date'])}，而在此之前已支付 {len(g)} 笔、合计 {wan(total)}: {shown}。先付款后签合同"
                             "可能是补签合同、补做决策记录，建议调阅付款审批与民主决策记录的形成时间；若签订日期录入有误，或"
                             "先付款项为另一合同的预付款，可据合同原件和审批单排除。"),
                evidence=[("contracts", cno)] + [("ledger", e) for e in g["entry_id"]], key=("signed_late", str(cno)),
                details=dict(days=days, payments=len(g))))
        return leads
