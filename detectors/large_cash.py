"""大额现金支付: payments in cash above the region's cash payment limit."""

from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan, ymd
from sanzi_audit.detectors.examples import Example, pay


class LargeCashParams(Params):
    min_excess: float = Field(0.0, ge=0, description="Only flag payments this far (元) above the limit")


class LargeCash(Detector):
    name = "large_cash"                       # = the module name = the entry-point name
    version = "1.1"                           # bump when the logic changes: stored with every run
    default_weight = 0.7
    title = "大额现金支付"                     # shown to auditors
    description = (                           # what it flags, why it matters, and the basis of the threshold
        "Flags ledger payments settled in cash above thresholds.cash_payment_limit, one lead per handler and year "
        "listing every such payment. Basis: 村务卡 rules require payments above the limit (often 1000元) to go by "
        "transfer so that every payee is traceable.")
    requires = ("ledger",)                    # skipped, with a reason in the run summary, when absent
    uses = ()                                 # optional tables you read when present
    views = ("payments",)
    Params = LargeCashParams

    examples = (
        Example("2,000元现金支付，超过 1,000元 的现金支付限额",
                {"ledger": [pay("e1", "2024-03-01", 2000, "某商店", "513001", settlement="现金")]}, leads=1),
        Example("同样 2,000元，转账支付（不是现金）",
                {"ledger": [pay("e1", "2024-03-01", 2000, "某商店", "513001", settlement="转账")]}, leads=0),
        Example("800元现金支付，在限额以内",
                {"ledger": [pay("e1", "2024-03-01", 800, "某商店", "513001", settlement="现金")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        pay = data.payments                   # ledger debit lines that pay a named payee (shared, cached)
        cash = pay[pay["settlement"] == "现金"]
        limit = data.per_village(cash["village_code"], lambda th: th.cash_payment_limit)  # limits vary by township
        over = cash.assign(limit=limit, who=cash["handler"].fillna("（未填经办人）"),
                           year=cash["entry_date"].dt.year)[cash["debit"] > limit + self.params.min_excess]
        leads = []
        # one lead per handler and year: the pattern is the handler's habit, and one lead reads it whole
        for (village, who, year), g in over.groupby(["village_code", "who", "year"], sort=True):
            g = g.sort_values(["entry_date", "entry_id"])
            total, top = float(g["debit"].sum()), float((g["debit"] / g["limit"]).max())
            shown = "；".join(f"{ymd(r.entry_date)} {r.voucher_no}号凭证“{r.counterparty}”{wan(r.debit)}"
                             for r in g.head(8).itertuples())
            leads.append(self.lead(
                village_code=village,
                score=round(min(0.9, 0.4 + 0.1 * top + 0.05 * min(3, len(g) - 1)), 4),  # higher = more worth a look
                amount_at_risk=total,
                title=f"大额现金支付疑点：经办人{who} {year} 年现金支付 {len(g)} 笔 {wan(total)}",   # titles say 疑点
                explanation=(f"经办人“{who}”{year} 年以现金支付超过本地现金支付限额 {wan(float(g['limit'].iloc[0]))} "
                             f"的款项 {len(g)} 笔，合计 {wan(total)}：{shown}{'等' if len(g) > 8 else ''}。"
                             "建议核实付款方式与收款人；若为银行转账而误记为现金，可据银行回单排除。"),
                evidence=[("ledger", e) for e in g["entry_id"]],  # every record behind the lead
                key=(str(who), str(year)),                        # what makes this anomaly this one: stable id
                details={"limit": float(g["limit"].iloc[0]), "payments": len(g)},  # features behind the score
            ))
        return leads
