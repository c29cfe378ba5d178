"""超合同付款: payments booked against a contract that exceed its amount, or cite a contract not in the register.

Paying beyond the signed amount needs a supplementary agreement (and above the limits, a new decision); paying
against a contract number the register does not know means the contract was never put on record.
"""

from __future__ import annotations

from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan, ymd
from sanzi_audit.detectors.examples import Example, contract, pay


class OverpaymentParams(Params):
    tolerance: float = Field(0.05, ge=0, description="Paid may exceed the contract amount by this share before "
                             "a lead is raised (rounding, agreed small variations)")
    min_excess: float = Field(1000.0, ge=0, description="…and by at least this much (元)")
    unknown_min_total: float = Field(10000.0, ge=0, description="Payments citing a contract number missing from "
                                     "the register are flagged when they total at least this (元)")


class ContractOverpayment(Detector):
    name = "contract_overpayment"
    version = "1.0"
    default_weight = 0.9
    title = "超合同付款"
    description = ("Flags contracts whose ledger payments (by contract_no) exceed the contract amount by more than "
                   "tolerance and min_excess, and contract numbers cited by payments totalling unknown_min_total or "
                   "more that are missing from the contract register.")
    requires = ("ledger", "contracts")
    uses_payee = True
    uses = ()
    views = ("payments",)
    Params = OverpaymentParams

    examples = (
        Example("10万元合同付了 12万元",
                {"contracts": [contract("HT1", "2024-02-01", 100000, "某建筑公司")],
                 "ledger": [pay(f"p{i}", f"2024-0{i + 3}-01", a, "某建筑公司", "153001", contract_no="HT1")
                            for i, a in enumerate([30000, 70000, 20000])]}, leads=1),
        Example("多付 3%，在结算容差以内",
                {"contracts": [contract("HT1", "2024-02-01", 100000, "某建筑公司")],
                 "ledger": [pay(f"p{i}", f"2024-0{i + 3}-01", a, "某建筑公司", "153001", contract_no="HT1")
                            for i, a in enumerate([30000, 73000])]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        pay = data.payments
        contracts = data["contracts"].drop_duplicates("contract_no").set_index("contract_no")
        cited = pay[pay["contract_no"].notna()]
        if cited.empty:
            return []
        # totals per contract first (vectorised); text only for the contracts that are flagged
        totals = cited.groupby(["village_code", "contract_no"], sort=True)["debit"].sum().reset_index(name="paid")
        totals = totals.join(contracts["amount"], on="contract_no")
        known = totals["amount"].notna()
        excess = totals["paid"] - totals["amount"]
        over = known & (excess > (totals["amount"] * p.tolerance).clip(lower=p.min_excess))
        unknown = ~known & (totals["paid"] >= p.unknown_min_total)
        flagged = totals[over | unknown]
        if flagged.empty:
            return []
        rows = cited.merge(flagged[["village_code", "contract_no"]], on=["village_code", "contract_no"])
        leads = []
        for (village, no), g in rows.groupby(["village_code", "contract_no"], sort=True):
            paid = float(g["debit"].sum())
            g = g.sort_values("entry_date")
            shown = "；".join(f"{ymd(r.entry_date)} {r.voucher_no}号“{r.summary}” {wan(r.debit)}" for r in g.head(8).itertuples())
            if no in contracts.index:
                c = contracts.loc[no]
                amount = float(c["amount"])
                excess = paid - amount
                leads.append(self.lead(
                    village_code=village, score=min(0.95, 0.6 + excess / max(amount, 1.0)), amount_at_risk=excess,
                    title=f"超合同付款疑点：{c.get('title') or no} 已付 {wan(paid)}，合同金额 {wan(amount)}",
                    explanation=(f"合同 {no}（{c.get('title') or ''}，相对方 {c.get('vendor') or ''}，金额 {wan(amount)}）"
                                 f"已按合同编号付款 {len(g)} 笔合计 {wan(paid)}，超出合同金额 {wan(excess)}"
                                 f"（{excess / max(amount, 1.0):.0%}）：{shown}。超出部分应有补充协议及相应决策，建议核查；若有补充协议和决议，可据此排除。"),
                    evidence=[("contracts", str(no))] + [("ledger", e) for e in g["entry_id"]],
                    key=("over", str(no)),
                    details={"paid": paid, "amount": amount, "excess": excess},
                ))
            else:
                leads.append(self.lead(
                    village_code=village, score=0.6, amount_at_risk=paid,
                    title=f"超合同付款疑点：付款引用的合同 {no} 不在合同台账中（{wan(paid)}）",
                    explanation=(f"{len(g)} 笔付款引用合同编号 {no}，合计 {wan(paid)}，但合同台账中没有这份合同："
                                 f"{shown}。合同可能未备案或编号有误，建议核实；若为合同台账漏登，可据合同原件排除。"),
                    evidence=[("ledger", e) for e in g["entry_id"]],
                    key=("unknown", str(no)),
                    details={"paid": paid},
                ))
        return leads
