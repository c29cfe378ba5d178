"""坐收坐支: cash income spent on payments before it is banked.

Cash income (rents, fees) must be banked in full within a few days; paying expenses straight out of it (坐支)
takes the money outside the bank's record and the 民主理财 review. Flags a cash receipt of which less than the
whole reached the bank within deposit_days, while cash payments were made in those days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan, ymd
from sanzi_audit.detectors.examples import Example, book, cash_voucher


class CashSittingParams(Params):
    deposit_days: int = Field(3, ge=0, description="Days within which cash income should be banked "
                              "(DOMAIN: cash receipts booked within 3–7 days)")
    tolerance: float = Field(0.05, ge=0, lt=1, description="Share of the receipt that may stay unbanked")
    min_spent_share: float = Field(0.1, gt=0, le=1, description="Cash payments in those days, as a share of the "
                                   "receipt, before it is flagged (small float payments are not 坐支)")
    min_amount: float = Field(1000.0, ge=0, description="Smaller cash receipts are left alone (元)")


class CashSitting(Detector):
    name = "cash_sitting"
    version = "1.0"
    default_weight = 0.9
    title = "坐收坐支"
    description = (
        "For each cash receipt that is income (a 101 debit whose voucher does not draw on the bank) of at least "
        "min_amount, adds up bank deposits of cash (101 credit against 102) and cash payments from the receipt date to "
        "deposit_days after it. Flags the receipt when deposits fall short of the receipt by more than tolerance and "
        "the cash payments in the window reach min_spent_share of the receipt. Basis: 现金管理 rules forbid 坐支.")
    requires = ("ledger",)
    views = ("cash", "payments")
    Params = CashSittingParams

    examples = (
        Example("收现金租金 2万元，当天和次日直接付劳务费 5,500元，余款 20 天后才存银行（坐收坐支）",
                {"ledger": book(cash_voucher("2024-0001", "2024-04-01", "receive", 20000),
                                cash_voucher("2024-0002", "2024-04-01", "pay", 2500),
                                cash_voucher("2024-0003", "2024-04-02", "pay", 3000),
                                cash_voucher("2024-0004", "2024-04-20", "deposit", 14500))}, leads=1),
        Example("收到的现金当天全额存入银行",
                {"ledger": book(cash_voucher("2024-0001", "2024-04-01", "receive", 20000),
                                cash_voucher("2024-0002", "2024-04-01", "pay", 500),
                                cash_voucher("2024-0003", "2024-04-01", "deposit", 20000))}, leads=0),
        Example("从银行提取备用金再支出（不是收入）",
                {"ledger": book(cash_voucher("2024-0001", "2024-04-01", "withdraw", 3000),
                                cash_voucher("2024-0002", "2024-04-02", "pay", 2500))}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        cash = data.cash
        receipts = cash[(cash["kind"] == "receipt") & (cash["amount"] >= p.min_amount)]
        if receipts.empty:
            return []
        leads = []
        # a cash payment is shown by its payee line (劳务费 to 张三), not by the cash line of its voucher
        pay_index = None

        def payee_lines(village: str, voucher: str, fallback: str) -> list[str]:
            nonlocal pay_index
            if pay_index is None:  # built on the first lead only: most nights have few
                p = data.payments
                pay_index = p.groupby(["village_code", "voucher_no"], sort=False).indices
                pay_index = (pay_index, p["entry_id"].to_numpy())
            rows = pay_index[0].get((village, voucher))
            return [str(x) for x in pay_index[1][rows]] if rows is not None else [fallback]
        window = np.timedelta64(p.deposit_days, "D")
        lines_of = dict(tuple(cash[cash["village_code"].isin(receipts["village_code"].unique())]
                              .groupby("village_code", sort=False)))
        for village, rec in receipts.groupby("village_code", sort=True):
            lines = lines_of[village]
            dep = lines[lines["kind"] == "deposit"]
            pay = lines[lines["kind"] == "payment"]
            # banked and spent within each receipt's window, for all receipts at once (cumulative sums over dates),
            # only to pick the receipts worth a closer look (a cent of slack for rounding): those are summed exactly
            lo_all = rec["entry_date"].to_numpy()
            amount = rec["amount"].to_numpy()
            look = ((amount - _within(dep, lo_all, lo_all + window) > p.tolerance * amount - 0.01)
                    & (_within(pay, lo_all, lo_all + window) >= p.min_spent_share * amount - 0.01))
            for r in rec[look].itertuples():
                lo, hi = r.entry_date, r.entry_date + window
                banked = float(-dep.loc[(dep["entry_date"] >= lo) & (dep["entry_date"] <= hi), "amount"].sum())
                short = r.amount - banked
                if short <= p.tolerance * r.amount:
                    continue
                spent_rows = pay[(pay["entry_date"] >= lo) & (pay["entry_date"] <= hi)]
                spent = float(-spent_rows["amount"].sum())
                if spent < p.min_spent_share * r.amount:
                    continue
                later = dep[dep["entry_date"] > hi]
                late = (f"此后 {ymd(later['entry_date'].iloc[0])} 才存入银行 {wan(-later['amount'].iloc[0])}"
                        if len(later) else "此后未见该笔现金存入银行")
                shown = "；".join(f"{ymd(x.entry_date)} {x.voucher_no}号“{x.summary or ''}”{wan(-x.amount)}"
                                 for x in spent_rows.head(6).itertuples())
                leads.append(self.lead(
                    village_code=village,
                    score=round(min(0.9, 0.55 + 0.3 * min(1.0, spent / r.amount)), 4),
                    amount_at_risk=round(min(short, spent), 2),
                    title=f"坐收坐支疑点：{ymd(r.entry_date)} 收取现金 {wan(r.amount)} 未及时全额存入银行",
                    explanation=(f"{ymd(r.entry_date)} {r.voucher_no}号凭证收取现金“{r.summary or ''}”{wan(r.amount)}，"
                                 f"{p.deposit_days} 天内存入银行 {wan(banked)}，少存 {wan(short)}；同期以现金支付 "
                                 f"{len(spent_rows)} 笔共 {wan(spent)}：{shown}{'等' if len(spent_rows) > 6 else ''}。"
                                 f"{late}。现金收入应及时全额存入银行，不得坐收坐支，建议核对收款收据与现金日记账；若该笔现金已当日存入银行而未入账，可据银行回单排除。"),
                    evidence=[("ledger", r.entry_id)] + list(dict.fromkeys(
                        ("ledger", e) for x in spent_rows.head(30).itertuples()
                        for e in payee_lines(village, x.voucher_no, x.entry_id))),
                    key=("receipt", str(r.entry_id)),
                    details=dict(receipt=float(r.amount), banked=banked, spent=spent, deposit_days=p.deposit_days),
                ))
        return leads


def _within(lines: pd.DataFrame, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """−(sum of amount) of ``lines`` (sorted by date) dated within [lo, hi], for each pair of bounds."""
    dates = lines["entry_date"].to_numpy()
    total = np.concatenate([[0.0], np.cumsum(-lines["amount"].to_numpy(dtype="float64"))])
    return total[np.searchsorted(dates, hi, side="right")] - total[np.searchsorted(dates, lo, side="left")]
