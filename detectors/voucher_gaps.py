"""断号: voucher numbers missing from a village's sequence for a year."""

from __future__ import annotations

from pydantic import Field

from sanzi_audit.detectors.examples import Example, pay

from .base import Detector, DetectorInput, Lead, Params, ymd


class GapParams(Params):
    max_gap: int = Field(20, ge=1, description="Longer runs of missing numbers are reported as a renumbering, not "
                         "as missing vouchers (e.g. a new series started)")


class VoucherGaps(Detector):
    name = "voucher_gaps"
    version = "1.0"
    default_weight = 0.8
    title = "凭证断号"
    description = (
        "Flags missing numbers in each village's voucher sequence per year and prefix (2024-0123 … 2024-0125 "
        "without 0124): a voucher that was numbered and then removed, voided without a record, or never posted. "
        "The evidence is the vouchers on both sides of the gap, with their dates. Basis: audit practice treats "
        "断号 as a sign of removed or hidden entries; platforms number vouchers consecutively.")
    requires = ("ledger",)
    views = ("vouchers",)
    Params = GapParams

    examples = (
        Example("2024-0001、2024-0002 之后是 2024-0004：缺 2024-0003 号凭证",
                {"ledger": [pay(f"e{n}", f"2024-03-{i + 1:02d}", 10, None, "513001", voucher=n)
                            for i, n in enumerate(["2024-0001", "2024-0002", "2024-0004"])]}, leads=1),
        Example("编号连续",
                {"ledger": [pay(f"e{n}", f"2024-03-{i + 1:02d}", 10, None, "513001", voucher=n)
                            for i, n in enumerate(["2024-0001", "2024-0002", "2024-0003"])]}, leads=0),
        Example("每年重新编号（2023-0120 之后是 2024-0001）",
                {"ledger": [pay("e1", "2023-12-20", 10, None, "513001", voucher="2023-0120"),
                            pay("e2", "2024-01-03", 10, None, "513001", voucher="2024-0001"),
                            pay("e3", "2024-01-04", 10, None, "513001", voucher="2024-0002")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        # one row per voucher (its first line in ledger order is the evidence)
        v = data.vouchers
        first = v.assign(year=v["entry_date"].dt.year, date=v["entry_date"])
        first = first.sort_values(["village_code", "year", "prefix", "num"]).reset_index(drop=True)
        nxt = first.shift(-1)
        same = ((first["village_code"] == nxt["village_code"]) & (first["year"] == nxt["year"])
                & (first["prefix"] == nxt["prefix"]))
        missing = (nxt["num"] - first["num"] - 1).where(same)
        gaps = first.assign(missing=missing, after_no=nxt["voucher_no"], after_id=nxt["entry_id"],
                            after_date=nxt["date"])
        gaps = gaps[(gaps["missing"] >= 1) & (gaps["missing"] <= self.params.max_gap)]
        leads = []
        for r in gaps.itertuples():
            n = int(r.missing)
            lo, hi = int(r.num) + 1, int(r.num) + n
            width = len(str(r.voucher_no)) - len(str(r.prefix))
            gone = "、".join(f"{r.prefix}{k:0{width}d}" for k in range(lo, hi + 1))
            leads.append(self.lead(
                village_code=r.village_code, score=round(min(0.85, 0.55 + 0.1 * n), 4), amount_at_risk=0.0,
                title=f"凭证断号疑点：{r.village_code} {int(r.year)} 年缺少 {n} 张凭证（{gone}）",
                explanation=(f"{int(r.year)} 年凭证号从 {r.voucher_no}（{ymd(r.date)}）跳到 {r.after_no}（{ymd(r.after_date)}），"
                             f"缺少 {gone}。缺号的凭证可能被抽走、作废未留存或未入账，建议调阅凭证登记簿与作废记录；若缺号凭证有作废登记，可据此排除。"),
                evidence=[("ledger", r.entry_id), ("ledger", r.after_id)],
                key=("gap", str(int(r.year)), str(r.prefix), str(lo)), details=dict(missing=n, first_missing=lo)))
        return leads
