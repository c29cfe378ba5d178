"""刚低于限额: payments kept just under the cash payment limit or a tender limit.

Amounts kept just under a limit avoid what the limit triggers: a transfer instead of cash (cash payment limit), a
村民代表会议 resolution and a tender (tender limits). Two shapes:
- cash: several cash payments to one payee, each just under the cash limit, within a short window (a purchase
  cut into cash-sized pieces). Honest books have many small cash payments, but rarely a run to one payee.
- tender limits: a handler's payments bunching just under a limit with few just above it (honest amounts are
  smooth across a limit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan, ymd
from sanzi_audit.detectors.examples import Example, pay


class NearLimitParams(Params):
    band: float = Field(0.1, gt=0, lt=0.5, description="Width of the band just below (and just above) a limit, "
                        "as a share of the limit")
    min_count: int = Field(4, ge=2, description="Payments in the band below a limit: to one payee within window_days "
                           "(cash), or by one handler in a year (tender limits)")
    window_days: int = Field(60, ge=1, description="Window for a run of cash payments to one payee")
    ratio: float = Field(3.0, ge=1, description="Below-band count must exceed ratio × (above-band count + 1)")


class NearLimitAmounts(Detector):
    name = "near_limit_amounts"
    version = "1.0"
    default_weight = 0.8
    title = "刚低于限额"
    description = ("Flags (1) min_count or more cash payments to one payee within window_days, each in "
                   "[limit·(1−band), limit) of the cash payment limit; (2) a handler's payments in a year bunching in "
                   "that band under a tender limit, more than ratio × (those in [limit, limit·(1+band)) + 1). "
                   "Limits are per township.")
    requires = ("ledger",)
    uses_payee = True
    uses = ()
    views = ("contract_links", "payments")
    Params = NearLimitParams

    examples = (
        Example("同一经办人 5 天内向同一商店现金支付 5 笔，每笔 950–999元（现金限额 1,000元）",
                {"ledger": [pay(f"e{i}", f"2024-03-{i + 1:02d}", a, "某商店", "513001", settlement="现金",
                                handler="张会计") for i, a in enumerate([950, 960, 980, 990, 999])]}, leads=1),
        Example("同样金额但转账支付（现金限额不适用）",
                {"ledger": [pay(f"e{i}", f"2024-03-{i + 1:02d}", a, "某商店", "513001", settlement="转账",
                                handler="张会计") for i, a in enumerate([950, 960, 980, 990, 999])]}, leads=0),
        Example("现金支付多数远低于限额",
                {"ledger": [pay(f"e{i}", f"2024-03-{i + 1:02d}", a, "某商店", "513001", settlement="现金",
                                handler="张会计") for i, a in enumerate([420, 950, 600, 980, 300, 990])]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        pay = data.payments
        if pay.empty:
            return []
        pay = pay[data.contract_links.isna()]  # instalments of a contract are not amounts kept under a limit
        pay = pay.assign(who=pay["handler"].fillna("（未填经办人）"), yr=pd.to_datetime(pay["entry_date"]).dt.year,
                         payee=pay["counterparty"].fillna("（无收款人）"))
        return self._cash_runs(data, pay) + self._tender_bunching(data, pay)

    def _cash_runs(self, data: DetectorInput, pay: pd.DataFrame) -> list[Lead]:
        p = self.params
        limit = data.per_village(pay["village_code"], lambda th: th.cash_payment_limit)
        band = pay[(pay["settlement"] == "现金") & (pay["debit"] >= limit * (1 - p.band)) & (pay["debit"] < limit)]
        # most payees have one or two such payments: leave them out before looking at groups one by one
        band = band[band.groupby(["village_code", "payee"])["entry_id"].transform("size") >= p.min_count]
        band = band[["village_code", "payee", "entry_id", "entry_date", "voucher_no", "debit", "who"]]
        leads = []
        for (village, payee), g in band.groupby(["village_code", "payee"], sort=True):
            g = g.sort_values("entry_date")
            dates = pd.to_datetime(g["entry_date"]).to_numpy()
            # the longest run of payments within window_days of its first one
            best = (0, 0)
            j = 0
            for i in range(len(dates)):
                while dates[i] - dates[j] > np.timedelta64(p.window_days, "D"):
                    j += 1
                if i - j + 1 > best[1] - best[0]:
                    best = (j, i + 1)
            run = g.iloc[best[0]:best[1]]
            if len(run) < p.min_count:
                continue
            lim = data.config.thresholds_for(village).cash_payment_limit
            total = float(run["debit"].sum())
            shown = "；".join(f"{ymd(r.entry_date)} {r.voucher_no}号 {r.debit:,.2f}元（经办 {r.who}）"
                             for r in run.head(8).itertuples())
            leads.append(self.lead(
                village_code=village, score=min(0.9, 0.5 + 0.06 * len(run)), amount_at_risk=total,
                title=f"刚低于限额疑点：{payee} {len(run)} 笔现金付款均略低于现金支付限额 {wan(lim)}",
                explanation=(f"{p.window_days} 天内以现金向“{payee}”付款 {len(run)} 笔，每笔都在现金支付限额 {wan(lim)} "
                             f"以下 {p.band:.0%} 以内，合计 {wan(total)}：{shown}{'等' if len(run) > 8 else ''}。"
                             "可能是把一笔应转账支付的款项拆成多笔现金支付，建议核对发票和实际采购；若为互不相关的多次小额采购，可据发票和验收单排除。"),
                evidence=[("ledger", e) for e in run["entry_id"]],
                key=("cash", str(payee), ymd(run["entry_date"].iloc[0])[:7]),
                details={"limit": lim, "payments": len(run), "window_days": p.window_days},
            ))
        return leads

    def _tender_bunching(self, data: DetectorInput, pay: pd.DataFrame) -> list[Lead]:
        p = self.params
        # each village's distinct tender limits (a county usually has two or three), counted for all groups at once
        levels = {v: sorted(set(data.config.thresholds_for(v).tender_limit.values())) for v in pay["village_code"].unique()}
        leads = []
        keys = ["village_code", "who", "yr"]
        for k in range(max(len(x) for x in levels.values())):
            limit = pay["village_code"].map({v: (x[k] if k < len(x) else np.nan) for v, x in levels.items()})
            amt = pay["debit"]
            below = (amt >= limit * (1 - p.band)) & (amt < limit)
            above = (amt >= limit) & (amt < limit * (1 + p.band))
            counts = pd.DataFrame({"below": below, "above": above}).groupby([pay[c] for c in keys]).sum()
            hit = counts[(counts["below"] >= p.min_count) & (counts["below"] > p.ratio * (counts["above"] + 1))]
            if hit.empty:
                continue
            cand = pay[below].join(hit, on=keys, how="inner")
            for (village, who, yr), g in cand.groupby(keys, sort=True):
                th = data.config.thresholds_for(village)
                lim = levels[village][k]
                label = "、".join(c for c, v in sorted(th.tender_limit.items()) if v == lim) + "招标限额"
                n_above = int(g["above"].iloc[0])
                g = g.sort_values("entry_date")
                total = float(g["debit"].sum())
                shown = "；".join(f"{ymd(r.entry_date)} {r.voucher_no}号 {r.counterparty or ''} {r.debit:,.2f}元"
                                 for r in g.head(8).itertuples())
                leads.append(self.lead(
                    village_code=village,
                    score=min(0.9, 0.5 + 0.05 * len(g)),
                    amount_at_risk=total,
                    title=f"刚低于限额疑点：{who} {yr} 年 {len(g)} 笔付款略低于{label} {wan(lim)}",
                    explanation=(f"经办人“{who}”{yr} 年有 {len(g)} 笔付款金额在{label} {wan(lim)} 以下 "
                                 f"{p.band:.0%} 以内（合计 {wan(total)}），而略高于限额的只有 {n_above} 笔：{shown}"
                                 f"{'等' if len(g) > 8 else ''}。金额集中在限额之下可能是为规避民主决策和招标"
                                 "而拆分或压低金额，建议核查；若各笔为独立事项且金额有据，可据合同和发票排除。"),
                    evidence=[("ledger", e) for e in g["entry_id"]],
                    key=(str(who), str(yr), str(lim)),
                    details={"limit": lim, "below": len(g), "above": n_above, "band": p.band},
                ))
        return leads
