"""重复支付: the same bill paid twice (same invoice, or same payee and amount a few days apart)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.examples import Example, pay

# the period a recurring payment names: 3月 / 三月 / 第2季度 / 2024-03 / 2024年3月
from sanzi_audit.entities import components

from .base import Detector, DetectorInput, Lead, Params, wan, ymd

_PERIOD = (r"((?:\d{4}年)?(?:\d{1,2}|[一二三四五六七八九十]{1,3})月(?:份)?|第[一二三四1-4]季度|\d{4}-\d{2}"
           r"|第(?:\d{1,2}|[一二三四五六七八九十]{1,3})期|[（(](?:\d{1,2}|[一二三四五六七八九十]{1,3})期[）)])")


class DuplicateParams(Params):
    window_days: int = Field(10, ge=0, le=120, description="Same payee and amount within this many days is suspect; "
                             "monthly fixed fees (about 30 days apart) stay outside")
    exact_window_days: int = Field(21, ge=0, le=120, description="…and within this many days for an amount to the "
                                   "cent that is not a round figure (6,961.73元 twice is seldom two bills; a holiday "
                                   "can sit between the two bookings)")
    amount_tolerance: float = Field(0.0, ge=0, le=100, description="Absolute difference (元) still counted as the same "
                                    "amount; real duplicates repeat the amount to the cent")
    neighbours: int = Field(6, ge=1, le=50, description="How many nearest amounts of the same payee each payment is "
                            "compared with (keeps the search linear)")
    min_amount: float = Field(200.0, ge=0, description="Ignore payments below this amount (元)")
    excluded_roles: tuple[str, ...] = Field(("payroll",), description="Account roles not checked (sanzi_audit.chart; "
                                            "payroll = 应付工资: monthly pay of the same amount is normal)")
    recurring_min: int = Field(4, ge=3, description="Payments of one amount to one payee from which the series is "
                               "treated as recurring (rent, wages, a cleaner): one per period is normal, a second "
                               "inside one period is the duplicate")


class DuplicatePayments(Detector):
    name = "duplicate_payments"
    version = "1.0"
    title = "重复支付"
    description = (
        "Flags payments booked more than once: the same invoice number in two or more vouchers (anywhere in the "
        "county), or the same payee (after entity resolution, so spelling variants of one company match) paid the "
        "same amount within a few days in different vouchers. Basis: 纪委 cases of one invoice reimbursed twice, "
        "voided receipts booked again, and two restaurant bills minutes apart. Fixed monthly fees fall outside "
        "the window; salaries (the payroll role: 应付工资) are excluded. A payee paid one amount again and again "
        "(rent, a cleaner, a 管水员) is learnt as a series with its own cadence: payments that name different periods "
        "(1月/2月) or fall in different months of a monthly series are not duplicates however close their dates, and "
        "two inside one period are, however far apart.")
    requires = ("ledger",)
    views = ("entities", "payments")
    uses_payee = True
    Params = DuplicateParams

    examples = (
        Example("同一张发票在两张凭证中各报销一次",
                {"ledger": [pay("a", "2024-03-01", 4800, "演示县兴湾建材有限公司", "513001", invoice_no="123"),
                            pay("b", "2024-03-20", 4800, "演示县兴湾建材有限公司", "513001", invoice_no="123")]}, leads=1),
        Example("每月固定费用相隔 30 天、发票不同（诚实的相似情形）",
                {"ledger": [pay("a", "2024-03-25", 3000, "演示县兴湾建材有限公司", "514001", invoice_no="1"),
                            pay("b", "2024-04-24", 3000, "演示县兴湾建材有限公司", "514001", invoice_no="2")]}, leads=0),
        Example("同一凭证的两行分录",
                {"ledger": [pay("a", "2024-03-01", 500, "演示县兴湾建材有限公司", "513001", voucher="v1", invoice_no="7"),
                            pay("b", "2024-03-01", 500, "演示县兴湾建材有限公司", "513003", voucher="v1",
                                invoice_no="7")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        pay = data.payments
        pay = pay.loc[(pay["debit"] >= p.min_amount) & ~pay["role"].isin(p.excluded_roles),
                      ["entry_id", "village_code", "voucher_no", "entry_date", "debit", "counterparty", "invoice_no",
                       "summary", "contract_no"]]
        if pay.empty:
            return []
        pay = pay.assign(entity=data.entities.of_payments(pay.index)["entity"])
        pay["voucher"] = pay["village_code"] + "/" + pay["voucher_no"]
        leads = self._same_invoice(pay)
        seen = {e for ld in leads for _, e in ld.evidence}
        leads += self._same_amount(pay[~pay["entry_id"].isin(seen)])
        return leads

    def _same_invoice(self, pay: pd.DataFrame) -> list[Lead]:
        inv = pay[pay["invoice_no"].notna()]
        inv = inv[inv["invoice_no"].duplicated(keep=False)]  # most invoices are booked once: leave them out first
        vouchers_per_invoice = inv.groupby("invoice_no")["voucher"].nunique()
        inv = inv[inv["invoice_no"].isin(vouchers_per_invoice.index[vouchers_per_invoice > 1])]
        per_voucher = inv.groupby(["invoice_no", "voucher"], sort=True).agg(
            amount=("debit", "sum"), date=("entry_date", "min"), village_code=("village_code", "first"),
            payee=("counterparty", "first"), entries=("entry_id", list)).reset_index()
        leads = []
        for invoice, g in per_voucher.groupby("invoice_no", sort=True):
            g = g.sort_values(["date", "voucher"])
            amounts = g["amount"].to_numpy()
            extra = float(amounts.sum() - amounts.max())
            same = bool(np.all(np.abs(amounts - amounts[0]) <= self.params.amount_tolerance + 0.005))
            payees = list(dict.fromkeys(g["payee"]))
            listing = "；".join(f"{r.voucher.split('/')[1]}号凭证 {ymd(r.date)} {wan(r.amount)}" for r in g.itertuples())
            villages = g["village_code"].nunique()
            where = "（跨村）" if villages > 1 else ""
            leads.append(self.lead(
                village_code=g["village_code"].iloc[0], score=0.95 if same else 0.85, amount_at_risk=extra,
                title=f"重复支付疑点：发票 {invoice} 入账 {len(g)} 次{where}",
                explanation=(f"发票号 {invoice}（收款方: {'、'.join(payees)}）在 {len(g)} 张凭证中入账{where}: {listing}。"
                             f"{'金额一致' if same else '金额不完全一致'}，疑似重复报销，多支付 {wan(extra)}。"
                             f"建议调取原始发票与报销单据核对；若一张凭证为另一张的更正冲销，可据更正凭证排除。"),
                evidence=[("ledger", e) for es in g["entries"] for e in es],
                key=("invoice", str(invoice)),
                details=dict(invoice_no=invoice, bookings=len(g), extra=extra, same_amount=bool(same))))
        return leads

    def _series(self, a: pd.DataFrame) -> pd.DataFrame:
        """Per payment: its series (village, payee, amount), the series' size and median gap in days, the period
        its summary names (3月, 第2季度, 2024-03) and its calendar month."""
        key = a["village_code"] + "\x1f" + a["entity"] + "\x1f" + a["debit"].round(2).astype(str)
        out = pd.DataFrame({"series": key, "date": a["entry_date"]}, index=a.index)
        out["n"] = out.groupby("series")["date"].transform("size")
        gaps = out.sort_values("date").groupby("series")["date"].diff().dt.days
        out["gap"] = gaps.groupby(out["series"]).transform("median")
        out["period"] = a["summary"].fillna("").str.extract(_PERIOD, expand=False)
        out["month"] = a["entry_date"].dt.strftime("%Y-%m")
        return out

    def _monthly(self, s: pd.DataFrame) -> pd.Series:
        return (s["n"] >= self.params.recurring_min) & s["gap"].between(20, 40)

    def _drop_other_periods(self, pairs: pd.DataFrame, a: pd.DataFrame) -> pd.DataFrame:
        """A pair that names two different periods, or falls in two months of a monthly series, is two periods'
        payments, not one bill twice."""
        s = self._series(a).set_index(a["entry_id"])
        x, y = s.loc[pairs["entry_id"]].reset_index(drop=True), s.loc[pairs["entry_id_b"]].reset_index(drop=True)
        named_apart = x["period"].notna() & y["period"].notna() & (x["period"] != y["period"])
        months_apart = self._monthly(x) & (x["month"] != y["month"]) & ~(x["period"].notna() & (x["period"] == y["period"]))
        return pairs[~(named_apart | months_apart).to_numpy()]

    def _same_period(self, a: pd.DataFrame) -> list[pd.DataFrame]:
        """Two payments of a recurring series inside one period (the month its summary names, or its calendar month
        for a monthly series), whatever their distance in days."""
        s = self._series(a)
        rec = s[(s["n"] >= self.params.recurring_min)]
        if rec.empty:
            return []
        rec = rec.assign(entry_id=a.loc[rec.index, "entry_id"])
        rec["slot"] = rec["period"].where(rec["period"].notna(), rec["month"].where(self._monthly(rec)))
        rec = rec.dropna(subset=["slot"])
        dup = rec[rec.duplicated(["series", "slot"], keep=False)].sort_values(["series", "slot", "date", "entry_id"])
        if dup.empty:
            return []
        first = dup.groupby(["series", "slot"])["entry_id"].transform("first")
        other = dup[dup["entry_id"] != first]
        gap = (other["date"] - dup.groupby(["series", "slot"])["date"].transform("first")[other.index]).dt.days
        return [pd.DataFrame({"entry_id": first[other.index].to_numpy(), "entry_id_b": other["entry_id"].to_numpy(),
                              "gap": gap.astype(int).to_numpy()})]

    def _same_amount(self, pay: pd.DataFrame) -> list[Lead]:
        p = self.params
        cols = ["entry_id", "village_code", "entity", "voucher", "entry_date", "debit", "counterparty", "invoice_no",
                "summary", "voucher_no", "contract_no"]
        a = pay[cols].sort_values(["village_code", "entity", "debit", "entry_date", "entry_id"]).reset_index(drop=True)
        # Sorted by amount within a payee, a row within tolerance of any later row is within tolerance of the
        # next one: rows whose neighbours in amount order are all too far can never pair, so drop them first.
        tol = p.amount_tolerance + 0.005
        grp = a["village_code"] + "\x1f" + a["entity"]
        same_next = (grp == grp.shift(-1)) & ((a["debit"].shift(-1) - a["debit"]).abs() <= tol)
        near = same_next | same_next.shift(1, fill_value=False)
        a = a[near.to_numpy()].reset_index(drop=True)
        found = []
        for lag in range(1, p.neighbours + 1):
            b = a.shift(-lag)
            gap = (b["entry_date"] - a["entry_date"]).dt.days.abs()
            same_contract = a["contract_no"].isna() | b["contract_no"].isna() | (a["contract_no"] == b["contract_no"])
            odd = (a["debit"] * 100).round() % 1000 != 0  # not a round ten: cents or units written out
            window = np.where(odd, max(p.window_days, p.exact_window_days), p.window_days)
            m = ((a["village_code"] == b["village_code"]) & (a["entity"] == b["entity"])
                 & ((b["debit"] - a["debit"]).abs() <= tol)
                 & (a["voucher"] != b["voucher"]) & (gap <= window) & same_contract)
            if m.any():
                found.append(pd.DataFrame({"entry_id": a.loc[m, "entry_id"], "entry_id_b": b.loc[m, "entry_id"],
                                           "gap": gap[m].astype(int)}))
        found += self._same_period(a)
        if not found:
            return []
        pairs = pd.concat(found, ignore_index=True).drop_duplicates(["entry_id", "entry_id_b"])
        pairs = self._drop_other_periods(pairs, a)
        if pairs.empty:
            return []
        # connected pairs become one lead (three bookings of one bill are one anomaly)
        root = components(zip(pairs["entry_id"], pairs["entry_id_b"], strict=True))
        rows = a.set_index("entry_id")
        groups: dict[str, list[str]] = {}
        for e in sorted(root):
            groups.setdefault(root[e], []).append(e)
        leads = []
        for members in groups.values():
            g = rows.loc[sorted(members)].sort_values(["entry_date", "voucher"])
            min_gap = int(pairs[pairs["entry_id"].isin(members)]["gap"].min())
            no_invoice = g["invoice_no"].isna().all()
            # two different invoice numbers suggest two bills: still worth a look, less so
            distinct_invoices = g["invoice_no"].dropna().nunique() == len(g)
            periods = g["summary"].fillna("").str.extract(_PERIOD, expand=False)
            one_period = periods.notna().all() and periods.nunique() == 1
            score = (0.45 if distinct_invoices else 0.6) + 0.25 * max(0.0, 1 - min_gap / max(1, p.window_days)) + \
                (0.1 if no_invoice else 0.0) + (0.15 if one_period else 0.0)
            amounts = g["debit"].to_numpy()
            extra = float(amounts.sum() - amounts.max())
            names = list(dict.fromkeys(g["counterparty"]))
            listing = "；".join(f"{r.voucher_no}号凭证 {ymd(r.entry_date)} {wan(r.debit)}（{r.summary}）"
                               for r in g.itertuples())
            alias = f"（名称写法不一: {'、'.join(names)}）" if len(names) > 1 else ""
            leads.append(self.lead(
                village_code=g["village_code"].iloc[0], score=round(float(min(score, 0.95)), 4), amount_at_risk=extra,
                title=f"重复支付疑点：{names[0]} {len(g)} 笔 {wan(float(amounts[0]))}，相隔 {min_gap} 天",
                explanation=(f"向同一收款方“{names[0]}”{alias}在 {min_gap} 天内以不同凭证支付相同金额 {len(g)} 次: "
                             f"{listing}。{'均无发票号。' if no_invoice else ''}"
                             f"{f'两笔同属{periods.iloc[0]}。' if one_period else ''}存在同一事项重复支付的疑点，"
                             f"多支付 {wan(extra)}，建议核对原始单据；若为两项不同的业务（如不同月份的固定费用），"
                             f"可据原始单据排除。"),
                evidence=[("ledger", e) for e in g.index],
                key=("same_amount", g["entity"].iloc[0], g.index[0]),
                details=dict(bookings=len(g), min_gap_days=min_gap, no_invoice=bool(no_invoice), extra=extra)))
        return leads
