"""节假日记账: payments posted on weekends and statutory holidays, by handler, against the county's own habit.

Most village books are kept on working days; a run of payments dated on 春节 or 国庆, or one large one, is worth a
look (backdated or fabricated vouchers, spending during holidays). 调休 working weekends count as working days.
Some counties book on weekends as a matter of course (a 代理记账 centre that works Saturdays), so a handler is
compared with the county's own share of non-working-day payments that year, not with an absolute share: a lead
needs a handler who stands out from the county, by a one-sided binomial test.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.stats import binom

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan, ymd
from sanzi_audit.detectors.examples import Example, pay
from sanzi_audit.workdays import day_kind


class HolidayParams(Params):
    min_count: int = Field(3, ge=1, description="Payments on non-working days by one handler in a year to flag")
    large_amount: float = Field(20000, gt=0, description="A single non-working-day payment at or above this is "
                                "flagged on its own (元), where the county seldom books on such a day")
    alpha: float = Field(0.01, gt=0, lt=1, description="A handler is flagged when so many non-working-day payments "
                         "would happen by chance with at most this probability, at the county's own share")
    min_ratio: float = Field(2.0, ge=1, description="…and their share is at least this multiple of the county's")
    usual_share: float = Field(0.05, gt=0, lt=1, description="Where the county books more than this share of its "
                               "payments on weekends (or on holidays), one large payment on such a day is not a lead "
                               "on its own")
    prior_share: float = Field(0.02, ge=0, lt=1, description="Share of non-working-day payments assumed before the "
                               "county's own books are counted (weighs as prior_weight payments)")
    prior_weight: float = Field(200, ge=0, description="How many payments the prior share weighs: a small county "
                                "is judged mostly by the prior, a large one by its own books")


_HOLIDAY_ZH = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
               "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节",
               "National Day": "国庆节"}


class HolidayPostings(Detector):
    name = "holiday_postings"
    version = "1.0"
    default_weight = 0.7
    title = "节假日记账"
    scope = "population"  # a handler's non-working-day share is tested against the county's
    description = ("Flags handlers whose payments are dated on weekends or statutory holidays (chinese-calendar, "
                   "with 调休 working weekends counted as working days): at least min_count in a year, or one at or "
                   "above large_amount. Years the calendar does not know use Monday–Friday only, and say so.")
    requires = ("ledger",)
    uses = ()
    views = ("payments",)
    Params = HolidayParams

    examples = (
        Example("国庆假期内付款 3 笔",
                {"ledger": [pay(f"e{i}", d, 1000, "某商店", "513001", handler="张会计")
                            for i, d in enumerate(["2024-10-01", "2024-10-03", "2024-10-05"])]}, leads=1),
        Example("3 笔都在调休上班的星期日（法定工作日）",
                {"ledger": [pay(f"e{i}", d, 1000, "某商店", "513001", handler="张会计")
                            for i, d in enumerate(["2024-02-04", "2024-04-07", "2024-09-29"])]}, leads=0),
    )

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
        hits["holiday"] = [bool(k[1]) for k in hits["kind"]]
        p = self.params
        years = pd.Series([d.year for d in days], index=pay.index)
        county_n = years.value_counts()
        handled = pay.assign(yr=years, who=pay["handler"].fillna("（未填经办人）")).groupby(
            ["village_code", "who", "yr"]).size()

        def share(count: pd.Series) -> pd.Series:  # the county's share per year, with the prior
            count = count.reindex(county_n.index, fill_value=0)
            return (count + p.prior_share * p.prior_weight) / (county_n + p.prior_weight)

        off_share = share(hits["yr"].value_counts())
        holiday_share = share(hits.loc[hits["holiday"], "yr"].value_counts())
        weekend_share = share(hits.loc[~hits["holiday"], "yr"].value_counts())
        leads = []
        for (village, handler, year), g in hits.groupby(["village_code", "who", "yr"], sort=True):
            n, n_off, base = int(handled.get((village, handler, year), len(g))), len(g), float(off_share[year])
            n_hol, hol_base = int(g["holiday"].sum()), float(holiday_share[year])
            # statutory holidays are tested on their own too: a county that books on Saturdays still closes for 春节
            tail = min(float(binom.sf(n_off - 1, n, base)) if n_off >= p.min_count else 1.0,
                       float(binom.sf(n_hol - 1, n, hol_base)) if n_hol >= p.min_count else 1.0)
            stands_out = tail <= p.alpha and (n_off / n >= p.min_ratio * base or n_hol / n >= p.min_ratio * hol_base)
            unusual_day = np.where(g["holiday"], float(holiday_share[year]), float(weekend_share[year])) < p.usual_share
            big = (g["debit"] >= p.large_amount) & unusual_day
            if not stands_out and not big.any():
                continue
            g = g.sort_values("day")
            total = float(g["debit"].sum())
            shown = "；".join(f"{ymd(r.day)}（{_label(r.day, r.kind)}）{r.voucher_no}号 {r.counterparty or ''} "
                             f"{wan(r.debit)}" for r in g.head(8).itertuples())
            unknown = not all(kind[2] for kind in g["kind"])
            habit = (f"全县当年非工作日付款占 {base:.1%}（法定节假日 {hol_base:.1%}），该经办人 {n} 笔付款中有 {n_off} 笔"
                     f"（{n_off / n:.1%}，其中法定节假日 {n_hol} 笔）{'，明显偏高' if stands_out else ''}。")
            surprise = min(1.0, -np.log10(max(tail, 1e-12)) / 8)  # 1e-8 and rarer: full weight
            leads.append(self.lead(
                village_code=village,
                score=round(min(0.8, (0.35 + 0.35 * surprise if stands_out else 0.4) + (0.1 if big.any() else 0.0)),
                            4),
                amount_at_risk=total,
                title=f"节假日记账疑点：{handler} {year} 年在非工作日经办付款 {len(g)} 笔 {wan(total)}",
                explanation=(f"经办人“{handler}”{year} 年有 {len(g)} 笔付款的记账日期为周末或法定节假日（已按调休安排"
                             f"扣除补班日），合计 {wan(total)}：{shown}{'等' if len(g) > 8 else ''}。{habit}"
                             "村级账务通常在工作日办理，建议核实这些凭证的实际发生和审批时间；"
                             "若本村确有周末集中报账的安排，可据此排除。"
                             + (f"{year} 年的法定节假日安排未知，仅按周六、周日判断。" if unknown else "")),
                evidence=[("ledger", e) for e in g["entry_id"]],
                key=(str(handler), str(year)),
                details={"payments": len(g), "large": int(big.sum()), "calendar_known": not unknown,
                         "handler_payments": n, "county_share": round(base, 4), "tail_probability": tail},
            ))
        return leads


def _label(d: dt.date, kind) -> str:
    name = kind[1]
    if name:
        return _HOLIDAY_ZH.get(name, name)
    return "周六" if d.weekday() == 5 else "周日" if d.weekday() == 6 else "非工作日"
