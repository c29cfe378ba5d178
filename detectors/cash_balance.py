"""库存现金超限额: the village's cash on hand (101) above the 库存现金限额 for days on end.

Cash beyond the limit belongs in the bank the same day. A balance held above it for weeks is how a 小金库 starts:
money drawn "for petty expenses" and kept in a drawer, or income never banked. The balance is rebuilt from the
ledger's cash lines day by day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan, ymd
from sanzi_audit.detectors.examples import Example, book, cash_voucher


class CashBalanceParams(Params):
    min_days: int = Field(3, ge=1, description="Calendar days the balance must stay above the limit")
    max_evidence: int = Field(20, ge=1, description="Cash lines shown as evidence (largest inflows first)")


class CashBalance(Detector):
    name = "cash_balance"
    version = "1.0"
    default_weight = 0.8
    title = "库存现金超限额"
    description = (
        "Rebuilds each village's end-of-day cash balance (account 101, from zero at the first cash line in the data: "
        "exports carry no opening balance) and flags each spell of at least min_days calendar days above "
        "thresholds.cash_balance_limit (per township). Evidence: the cash inflows that built the balance and the "
        "outflow that brought it down. Basis: 现金管理 rules; DOMAIN's 库存现金限额 about 5000元.")
    requires = ("ledger",)
    views = ("cash",)
    Params = CashBalanceParams

    examples = (
        Example("提取 3万元 现金，两个月后才存回 2.5万元（库存现金限额 5,000元）",
                {"ledger": book(cash_voucher("2024-0001", "2024-03-01", "withdraw", 30000),
                                cash_voucher("2024-0002", "2024-03-05", "pay", 800),
                                cash_voucher("2024-0003", "2024-05-01", "deposit", 25000))}, leads=1),
        Example("超过限额一天，次日存入银行",
                {"ledger": book(cash_voucher("2024-0001", "2024-03-01", "receive", 9000),
                                cash_voucher("2024-0002", "2024-03-02", "deposit", 9000))}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        cash = data.cash
        if cash.empty:
            return []
        p = self.params
        daily = cash.groupby(["village_code", "entry_date"], sort=True)["amount"].sum().reset_index()
        daily["balance"] = daily.groupby("village_code")["amount"].cumsum().round(2)
        daily["limit"] = data.per_village(daily["village_code"], lambda th: th.cash_balance_limit)
        leads = []
        by_village = {v: g for v, g in cash.groupby("village_code", sort=False)}
        for village, g in daily.groupby("village_code", sort=True):
            above = (g["balance"] > g["limit"]).to_numpy()
            if not above.any():
                continue
            dates = g["entry_date"].to_numpy()
            bal = g["balance"].to_numpy()
            limit = float(g["limit"].iloc[0])
            edges = np.flatnonzero(np.diff(np.concatenate([[0], above.astype(int), [0]])))
            for start, stop in zip(edges[::2], edges[1::2], strict=True):  # rows [start, stop) above the limit
                ongoing = stop >= len(dates)
                end = dates[-1] if ongoing else dates[stop]
                days = int((end - dates[start]) / np.timedelta64(1, "D")) + (1 if ongoing else 0)
                if days < p.min_days:
                    continue
                built_from = dates[start - 1] if start > 0 else dates[0] - np.timedelta64(1, "D")
                peak = float(bal[start:stop].max())
                lines = by_village[village]
                inflow = lines[(lines["entry_date"] > built_from) & (lines["entry_date"] <= dates[stop - 1])
                               & (lines["amount"] > 0)].nlargest(p.max_evidence, "amount")
                outflow = (lines[(lines["entry_date"] == end) & (lines["amount"] < 0)].nsmallest(3, "amount")
                           if not ongoing else lines.iloc[0:0])
                # cash paid back into the bank while it was held (part of a hoard returned): the other half of it
                later = lines[(lines["entry_date"] > dates[start]) & (lines["kind"] == "deposit")
                              & (lines["entry_date"] <= end + np.timedelta64(100, "D"))]
                # and the first and the largest sums cash went back to the bank after
                banked = pd.concat([later[later["entry_date"] <= end].nsmallest(3, "amount"), later.head(1),
                                    later.nsmallest(1, "amount")])
                ev = pd.concat([inflow, outflow, banked]).drop_duplicates("entry_id")
                shown = "；".join(f"{ymd(r.entry_date)} {r.voucher_no}号“{r.summary or ''}”{wan(abs(r.amount))}"
                                 for r in inflow.head(5).itertuples())
                close = ("至数据截止日仍高于限额" if ongoing else
                         f"{ymd(end)} 余额降至 {wan(float(bal[stop]))}")
                if len(later):
                    close += f"；{ymd(later['entry_date'].iloc[0])} 现金存入银行 {wan(-float(later['amount'].iloc[0]))}"
                leads.append(self.lead(
                    village_code=village,
                    score=round(min(0.9, 0.45 + 0.15 * min(1.0, np.log2(peak / limit) / 3) + 0.25 * min(1.0, days / 60)), 4),
                    amount_at_risk=round(peak - limit, 2),
                    title=f"库存现金超限额疑点：{ymd(dates[start])} 起 {days} 天现金余额高于限额，最高 {wan(peak)}",
                    explanation=(f"按账面现金分录逐日累计（本期数据无期初余额，从零起算），自 {ymd(dates[start])} 起库存现金"
                                 f"连续 {days} 天高于库存现金限额 {wan(limit)}，最高 {wan(peak)}，{close}。形成余额的主要现金"
                                 f"收入：{shown}。超限额现金应当日存入银行；长期大额持有现金可能形成账外资金，建议盘点现金"
                                 "并核对提现用途；若期初已有合规的备用金余额或当日已存入银行，可据现金日记账和银行回单排除。"),
                    evidence=[("ledger", e) for e in ev["entry_id"]],
                    key=("spell", ymd(dates[start])),
                    details=dict(limit=limit, peak=peak, days=days, ongoing=bool(ongoing)),
                ))
        return leads
