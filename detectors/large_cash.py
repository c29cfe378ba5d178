"""大额现金支付: payments in cash above the region's cash payment limit."""

from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan, ymd


class LargeCashParams(Params):
    min_excess: float = Field(0.0, ge=0, description="Only flag payments this far (元) above the limit")


class LargeCash(Detector):
    name = "large_cash"                       # = the module name = the entry-point name
    version = "1.0"                           # bump when the logic changes: stored with every run
    title = "大额现金支付"                     # shown to auditors
    description = (                           # what it flags, why it matters, and the basis of the threshold
        "Flags ledger payments settled in cash above thresholds.cash_payment_limit. Basis: 村务卡 rules require "
        "payments above the limit (often 1000元) to go by transfer so that every payee is traceable.")
    requires = ("ledger",)                    # skipped, with a reason in the run summary, when absent
    uses = ()                                 # optional tables you read when present
    Params = LargeCashParams

    def detect(self, data: DetectorInput) -> list[Lead]:
        pay = data.payments                   # ledger debit lines that pay a named payee (shared, cached)
        cash = pay[pay["settlement"] == "现金"]
        limit = data.per_village(cash["village_code"], lambda th: th.cash_payment_limit)  # limits vary by township
        over = cash.assign(limit=limit)[cash["debit"] > limit + self.params.min_excess]
        leads = []
        for r in over.itertuples():
            leads.append(self.lead(
                village_code=r.village_code,
                score=min(0.9, 0.4 + 0.1 * r.debit / r.limit),      # higher = more worth a look, in [0, 1]
                amount_at_risk=float(r.debit),
                title=f"大额现金支付疑点：{r.counterparty} {wan(r.debit)}",   # titles say 疑点
                explanation=(f"{ymd(r.entry_date)} {r.voucher_no}号凭证以现金支付“{r.counterparty}”{wan(r.debit)}，"
                             f"超过本地现金支付限额 {wan(r.limit)}。建议核实付款方式与收款人。"),
                evidence=[("ledger", r.entry_id)],                 # every record behind the lead
                key=(r.entry_id,),                                 # what makes this anomaly this one: stable id
                details={"limit": r.limit},                        # features behind the score, for the review page
            ))
        return leads
