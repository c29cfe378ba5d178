"""零接待: hospitality and gift spending where the region forbids it, found by 摘要 keywords and account names.

Many counties require 村级“零接待”: no meals, tobacco and alcohol, gifts or shopping cards paid from collective
funds. Such spending is often booked as office costs or 误工补贴 with a tell-tale summary.
"""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, mentions, wan, ymd
from sanzi_audit.detectors.examples import Example, pay

KEYWORDS = ["招待", "宴请", "接待", "餐费", "就餐", "烟酒", "香烟", "白酒", "礼品", "购物卡", "超市卡", "土特产", "旅游"]


class HospitalityParams(Params):
    forbidden: bool = Field(True, description="The region forbids hospitality spending (零接待); when false, "
                            "nothing is flagged")
    keywords: list[str] = Field(default_factory=lambda: list(KEYWORDS),
                                description="Words in 摘要 or 科目名称 that mark hospitality or gift spending")
    exclude: list[str] = Field(default_factory=lambda: ["食堂", "老年", "敬老", "助餐"],
                               description="Words that mark honest lookalikes (an elderly canteen's food)")


class HospitalitySpending(Detector):
    name = "hospitality_spending"
    version = "1.0"
    default_weight = 0.8
    title = "零接待"
    description = ("Flags, per village and year, payments whose 摘要 or account name contains a hospitality or gift "
                   "keyword (keywords) and none of the exclude words, in regions that forbid it (forbidden).")
    requires = ("ledger",)
    uses = ()
    views = ("payments",)
    Params = HospitalityParams

    examples = (
        Example("“接待上级检查工作餐费”记入办公费",
                {"ledger": [pay("e1", "2024-03-01", 1200, "某饭店", "513001", summary="接待上级检查工作餐费")]}, leads=1),
        Example("老年食堂购买米面油",
                {"ledger": [pay("e1", "2024-03-01", 1200, "某粮油店", "513001", summary="老年食堂购买米面油")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        pay = data.payments
        if not p.forbidden or pay.empty or not p.keywords:
            return []
        text = pay["summary"].fillna("") + " " + pay.get("account_name", pd.Series("", index=pay.index)).fillna("")
        hit = mentions(text, p.keywords) & ~mentions(text, p.exclude)
        rows = pay[hit.to_numpy(dtype=bool)]
        if rows.empty:
            return []
        rows = rows.assign(yr=pd.to_datetime(rows["entry_date"]).dt.year)
        leads = []
        for (village, yr), g in rows.groupby(["village_code", "yr"], sort=True):
            g = g.sort_values("entry_date")
            total = float(g["debit"].sum())
            words = sorted({k for k in p.keywords for s in g["summary"].fillna("") if k in s})
            shown = "；".join(f"{ymd(r.entry_date)} {r.voucher_no}号“{r.summary}” {r.counterparty or ''} {wan(r.debit)}"
                             for r in g.head(8).itertuples())
            leads.append(self.lead(
                village_code=village, score=min(0.9, 0.55 + 0.1 * len(g)), amount_at_risk=total,
                title=f"零接待疑点：{yr} 年 {len(g)} 笔疑似接待或礼品支出 {wan(total)}",
                explanation=(f"本地要求村级“零接待”，但 {yr} 年有 {len(g)} 笔付款的摘要或科目含“{'、'.join(words) or '接待类'}”"
                             f"等字样，合计 {wan(total)}：{shown}{'等' if len(g) > 8 else ''}。建议核实支出事由、"
                             "审批和参与人员；若为误餐补助、慰问等有规定标准的支出，可据审批单排除。"),
                evidence=[("ledger", e) for e in g["entry_id"]],
                key=(str(yr),),
                details={"payments": len(g), "keywords": words},
            ))
        return leads

