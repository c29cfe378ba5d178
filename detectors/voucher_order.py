"""凭证顺序异常: a voucher dated well before the vouchers numbered ahead of it (a backdated, inserted voucher).

Vouchers are numbered in the order they are booked, so dates rise with numbers. A voucher whose date is weeks
earlier than a lower-numbered one was most likely written later and dated back: worth checking what it pays for
and when it was really approved.
"""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan, ymd


class VoucherOrderParams(Params):
    max_backdate_days: int = Field(15, ge=1, description="A voucher dated more than this many days before a "
                                   "lower-numbered voucher of the same series is flagged")


class VoucherOrder(Detector):
    name = "voucher_order"
    version = "1.0"
    title = "凭证顺序异常"
    description = ("Within each village's voucher series (the number's prefix), flags vouchers dated more than "
                   "max_backdate_days before the latest date among lower-numbered vouchers: numbering follows booking "
                   "order, so such a voucher was probably inserted later and backdated.")
    requires = ("ledger",)
    uses = ()
    Params = VoucherOrderParams

    def detect(self, data: DetectorInput) -> list[Lead]:
        led = data["ledger"]
        if led.empty:
            return []
        amount = led.groupby(["village_code", "voucher_no"])["debit"].sum()
        first = led.drop_duplicates(["village_code", "voucher_no"])[["village_code", "voucher_no", "entry_id",
                                                                    "entry_date", "summary"]]
        distinct = pd.Series(first["voucher_no"].astype("str").unique())
        parts = distinct.str.extract(r"^(?P<prefix>.*?)(?P<num>\d+)$").set_index(distinct)
        first = first.assign(prefix=first["voucher_no"].map(parts["prefix"]),
                             num=pd.to_numeric(first["voucher_no"].map(parts["num"]), errors="coerce"))
        first = first[first["num"].notna() & first["entry_date"].notna()]
        first = first.sort_values(["village_code", "prefix", "num"]).reset_index(drop=True)
        grp = first.groupby(["village_code", "prefix"], sort=False)["entry_date"]
        before = grp.transform(lambda s: s.cummax().shift(1))  # latest date among lower numbers
        days = (before - first["entry_date"]).dt.days
        # assign before filtering: assigning a Series to an empty frame would adopt the Series' rows
        flagged = first.assign(days=days, before=before)
        hits = flagged[flagged["days"] > self.params.max_backdate_days]
        leads = []
        for r in hits.itertuples():
            ahead = first[(first["village_code"] == r.village_code) & (first["prefix"] == r.prefix)
                          & (first["num"] < r.num) & (first["entry_date"] == r.before)].iloc[-1]
            total = float(amount.get((r.village_code, r.voucher_no), 0.0))
            leads.append(self.lead(
                village_code=r.village_code, score=round(min(0.85, 0.5 + r.days / 200), 4), amount_at_risk=total,
                title=f"凭证顺序异常疑点：{r.voucher_no} 号凭证日期早于前序凭证 {int(r.days)} 天",
                explanation=(f"{r.voucher_no} 号凭证（{ymd(r.entry_date)}，“{r.summary or ''}”，{wan(total)}）的日期比编号"
                             f"在前的 {ahead['voucher_no']} 号凭证（{ymd(ahead['entry_date'])}）早 {int(r.days)} 天。凭证按记账"
                             "顺序编号，日期倒挂可能是事后补记并倒签日期，建议核对凭证登记簿和审批时间。"),
                evidence=[("ledger", r.entry_id), ("ledger", ahead["entry_id"])],
                key=("order", str(r.voucher_no)),
                details={"days_before": int(r.days), "ahead": str(ahead["voucher_no"])},
            ))
        return leads
