"""凭证顺序异常: a voucher dated well before the vouchers numbered ahead of it (a backdated, inserted voucher).

Vouchers are numbered in the order they are booked, so dates rise with numbers. A voucher whose date is weeks
earlier than a lower-numbered one was most likely written later and dated back: worth checking what it pays for
and when it was really approved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan, ymd
from sanzi_audit.detectors.examples import Example, pay


class VoucherOrderParams(Params):
    max_backdate_days: int = Field(15, ge=1, description="A voucher dated more than this many days before a "
                                   "lower-numbered voucher of the same series is flagged")


class VoucherOrder(Detector):
    name = "voucher_order"
    version = "1.0"
    default_weight = 0.8
    title = "凭证顺序异常"
    description = ("Within each village's voucher series (the number's prefix), flags vouchers dated more than "
                   "max_backdate_days before the latest date among lower-numbered vouchers: numbering follows booking "
                   "order, so such a voucher was probably inserted later and backdated.")
    requires = ("ledger",)
    uses = ()
    views = ("vouchers",)
    Params = VoucherOrderParams

    examples = (
        Example("6月编号的凭证之间夹着一张 4月15日 的凭证（事后补记、倒签日期）",
                {"ledger": [pay(f"e{n}", d, 100, None, "513001", voucher=n)
                            for n, d in (("2024-0001", "2024-05-02"), ("2024-0002", "2024-06-10"),
                                         ("2024-0003", "2024-04-15"), ("2024-0004", "2024-06-12"))]}, leads=1),
        Example("前后差几天（月底集中记账）",
                {"ledger": [pay(f"e{n}", d, 100, None, "513001", voucher=n)
                            for n, d in (("2024-0001", "2024-03-10"), ("2024-0002", "2024-03-04"),
                                         ("2024-0003", "2024-03-12"))]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        if data["ledger"].empty:
            return []
        v = data.vouchers
        v = v[v["entry_date"].notna()].reset_index(drop=True)
        keys = [v["village_code"], v["prefix"]]
        latest = v.groupby(keys, sort=False)["entry_date"].cummax()
        # the voucher that set the running latest date; shifted, "the latest among lower numbers" and who set it
        setter = pd.Series(np.where(v["entry_date"] == latest, np.arange(len(v)), np.nan)).groupby(keys).ffill()
        before = latest.groupby(keys).shift(1)
        ahead = setter.groupby(keys).shift(1)
        days = (before - v["entry_date"]).dt.days
        leads = []
        for i in np.flatnonzero((days > self.params.max_backdate_days).to_numpy()):
            r, a = v.iloc[i], v.iloc[int(ahead.iat[i])]
            n, total = int(days.iat[i]), float(r["amount"])
            summary = r["summary"] if pd.notna(r["summary"]) else ""
            leads.append(self.lead(
                village_code=r["village_code"], score=round(min(0.85, 0.5 + n / 200), 4), amount_at_risk=total,
                title=f"凭证顺序异常疑点：{r['voucher_no']} 号凭证日期早于前序凭证 {n} 天",
                explanation=(f"{r['voucher_no']} 号凭证（{ymd(r['entry_date'])}，“{summary}”，{wan(total)}）的日期比"
                             f"编号在前的 {a['voucher_no']} 号凭证（{ymd(a['entry_date'])}）早 {n} 天。凭证按记账顺序编号，"
                             "日期倒挂可能是事后补记并倒签日期，建议核对凭证登记簿和审批时间；若为年终调整或更正凭证，可据审批记录排除。"),
                evidence=[("ledger", r["entry_id"]), ("ledger", a["entry_id"])],
                key=("order", str(r["voucher_no"])),
                details={"days_before": n, "ahead": str(a["voucher_no"])},
            ))
        return leads
