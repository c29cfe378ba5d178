"""整数金额集中: a handler whose payments are round thousands far more often than the county's.

Amounts that come from real invoices and pay sheets rarely end in 000; invented claims (误工补贴, 劳务费 with no
time sheet, 白条) often do. Compares each handler's share of round amounts in a year with the county's share among
the same kind of payments, and flags a share that chance alone would almost never give.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field
from scipy.stats import binom

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, mentions, wan
from sanzi_audit.detectors.examples import Example, pay


def _pay_sheet(amounts: list[float], handler: str) -> list[dict]:
    """Example 误工补贴 payments by one handler, spread over a year."""
    return [pay(f"{handler}{i}", f"2024-{i % 12 + 1:02d}-{i % 27 + 1:02d}", float(a), f"村民{i % 40}", "513004",
                summary="支付误工补贴", handler=handler) for i, a in enumerate(amounts)]


class RoundParams(Params):
    unit: float = Field(1000.0, gt=0, description="An amount is round when it is a multiple of this (元)")
    min_amount: float = Field(1000.0, ge=0, description="Only payments of at least this much are counted")
    min_round: int = Field(8, ge=2, description="Round payments a handler needs in a year before a lead")
    max_p: float = Field(1e-4, gt=0, lt=1, description="Flag when P(at least this many round | the county's "
                         "share) is below this (binomial tail)")
    exclude_keywords: tuple[str, ...] = Field(("工资", "报酬", "备用金"), description="摘要 keywords of payments "
                                              "that are round by design (payroll, petty cash)")


class RoundAmounts(Detector):
    name = "round_amounts"
    version = "1.0"
    default_weight = 0.6
    title = "整数金额集中"
    scope = "population"  # a handler's share of round amounts is tested against the county's
    description = (
        "Per village, handler (经办人) and year, counts payments of at least min_amount that are multiples of unit, "
        "and compares the count with the county-wide share of round amounts among such payments (payroll and "
        "petty cash left out): flags a handler with at least min_round round payments whose binomial tail "
        "probability is below max_p. Basis: DOMAIN's red flags (round amounts); invented claims are often round.")
    requires = ("ledger",)
    views = ("payments",)
    Params = RoundParams

    examples = (
        Example("一名经办人 12 笔付款全是整千元，全县其他付款几乎没有整数",
                {"ledger": _pay_sheet([1000 + 37 * i + (i % 7) * 0.5 for i in range(400)], "张会计")
                 + _pay_sheet([1000, 2000, 3000, 5000, 8000, 2000, 3000, 4000, 6000, 1000, 2000, 7000], "李副主任")},
                leads=1),
        Example("一名经办人 6 笔中只有 2 笔整千元",
                {"ledger": _pay_sheet([1000 + 37 * i + (i % 7) * 0.5 for i in range(400)], "张会计")
                 + _pay_sheet([2000, 3000, 1234.5, 2876, 4411, 1999], "李副主任")}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        pay = data.payments
        pay = pay[pay["debit"] >= p.min_amount]
        pay = pay[~mentions(pay["summary"], p.exclude_keywords).to_numpy()]
        if pay.empty:
            return []
        amt = pay["debit"].to_numpy()
        is_round = np.isclose(np.mod(amt, p.unit), 0) | np.isclose(np.mod(amt, p.unit), p.unit)
        base = float(is_round.mean())
        pay = pay.assign(round_=is_round, who=pay["handler"].fillna("（未填经办人）"), yr=pay["entry_date"].dt.year)
        counts = pay.groupby(["village_code", "who", "yr"])["round_"].agg(["sum", "size"])
        counts = counts[counts["sum"] >= p.min_round]
        leads = []
        for (village, who, yr), c in counts.iterrows():
            k, n = int(c["sum"]), int(c["size"])
            tail = float(binom.sf(k - 1, n, max(base, 1e-6)))
            if tail >= p.max_p:
                continue
            rows = pay[(pay["village_code"] == village) & (pay["who"] == who) & (pay["yr"] == yr) & pay["round_"]]
            rows = rows.sort_values("entry_date")
            total = float(rows["debit"].sum())
            shown = "；".join(f"{r.entry_date:%Y-%m-%d} {r.voucher_no}号 {r.counterparty or ''} {wan(r.debit)}"
                             for r in rows.head(6).itertuples())
            strength = min(1.0, -np.log10(max(tail, 1e-300)) / 20)
            leads.append(self.lead(
                village_code=village, score=round(0.45 + 0.4 * strength, 4), amount_at_risk=round(total, 2),
                title=f"整数金额集中疑点：经办人“{who}”{yr} 年 {k} 笔付款为整千元",
                explanation=(f"经办人“{who}”{yr} 年 {n} 笔 {wan(p.min_amount)} 以上的付款中有 {k} 笔（{k / n:.0%}）是 "
                             f"{wan(p.unit)} 的整数倍，全县同类付款中整数金额只占 {base:.1%}；按全县比例出现这么多的概率约为 "
                             f"{tail:.1e}。这些付款合计 {wan(total)}：{shown}{'等' if k > 6 else ''}。按实际票据和工时结算的金额"
                             "很少恰为整千元，建议核对原始凭证、考勤或验收记录；若整数金额来自定额标准，可据标准文件排除。"),
                evidence=[("ledger", e) for e in rows["entry_id"].head(40)],
                key=(str(who), str(yr)),
                details=dict(round=k, payments=n, county_share=round(base, 4), p_value=tail),
            ))
        return leads



