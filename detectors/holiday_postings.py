"""节假日记账: payments posted on weekends and statutory holidays, by handler.

Village books are kept on working days; a run of payments dated on 春节 or 国庆, or one large one, is worth a
look (backdated or fabricated vouchers, spending during holidays). 调休 working weekends count as working days.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan, ymd
from sanzi_audit.workdays import day_kind


class HolidayParams(Params):
    min_count: int = Field(3, ge=1, description="Payments on non-working days by one handler in a year to flag")
    large_amount: float = Field(20000, gt=0, description="A single non-working-day payment at or above this is "
                                "flagged on its own (元)")


_HOLIDAY_ZH = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
               "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节",
               "National Day": "国庆节"}


class HolidayPostings(Detector):
    name = "holiday_postings"
    version = "1.0"
    title = "节假日记账"
    description = ("Flags handlers whose payments are dated on weekends or statutory holidays (chinese-calendar, "
                   "with 调休 working weekends counted as working days): at least min_count in a year, or one at or "
                   "above large_amount. Years the calendar does not know use Monday–Friday only, and say so.")
    requires = ("ledger",)
    uses = ()
    Params = HolidayParams

    def detect(self, data: DetectorInput) -> list[Lead]:
        pay = data.payments
        if pay.empty:
            return []
        days = pd.to_datetime(pay["entry_date"]).dt.date
        kinds = days.map({d: day_kind(d) for d in days.unique()})  # a few hundred distinct dates, not every row
        off = ~kinds.map(lambda k: k[0]).astype(bool)
        # (itertuples drops column names that start with "_", hence the plain names)
        hits = pay.loc[off.to_numpy()].assign(day=days[off], kind=kinds[off],
                                              who=pay.loc[off.to_numpy(), "handler"].fillna("（未填经办人）"))
        if hits.empty:
            return []
        hits["yr"] = [d.year for d in hits["day"]]
        leads = []
        for (village, handler, year), g in hits.groupby(["village_code", "who", "yr"], sort=True):
            big = g["debit"] >= self.params.large_amount
            if len(g) < self.params.min_count and not big.any():
                continue
            g = g.sort_values("day")
            total = float(g["debit"].sum())
            shown = "；".join(f"{ymd(r.day)}（{_label(r.day, r.kind)}）{r.voucher_no}号 {r.counterparty or ''} "
                             f"{wan(r.debit)}" for r in g.head(8).itertuples())
            unknown = not all(k[2] for k in g["kind"])
            leads.append(self.lead(
                village_code=village,
                score=min(0.85, 0.45 + 0.08 * len(g) + (0.15 if big.any() else 0.0)),
                amount_at_risk=total,
                title=f"节假日记账疑点：{handler} {year} 年在非工作日经办付款 {len(g)} 笔 {wan(total)}",
                explanation=(f"经办人“{handler}”{year} 年有 {len(g)} 笔付款的记账日期为周末或法定节假日（已按调休安排"
                             f"扣除补班日），合计 {wan(total)}：{shown}{'等' if len(g) > 8 else ''}。村级账务通常在工作日"
                             "办理，建议核实这些凭证的实际发生和审批时间。"
                             + (f"{year} 年的法定节假日安排未知，仅按周六、周日判断。" if unknown else "")),
                evidence=[("ledger", e) for e in g["entry_id"]],
                key=(str(handler), str(year)),
                details={"payments": len(g), "large": int(big.sum()), "calendar_known": not unknown},
            ))
        return leads


def _label(d: dt.date, kind) -> str:
    name = kind[1]
    if name:
        return _HOLIDAY_ZH.get(name, name)
    return "周六" if d.weekday() == 5 else "周日" if d.weekday() == 6 else "非工作日"
