"""无合同大额付款: payments at or above a tender limit that cite no contract.

A payment that large needs a contract, a 村民代表会议 resolution and usually a tender; paying it with no contract
number skips all three (or hides a contract that was never registered).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from pydantic import Field

from sanzi_audit.chart import TENDER_CATEGORY as CATEGORY_BY_ROLE  # works, goods and services by account role
from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan, ymd
from sanzi_audit.detectors.examples import Example, pay


def _limit_for(thresholds, category: str) -> float:
    return thresholds.tender_limit_for(category)


class UncontractedParams(Params):
    share: float = Field(1.0, gt=0, le=2, description="Flag a payment of at least share × the tender limit of its "
                         "category (by account role) that cites no contract number")


class UncontractedPayments(Detector):
    name = "uncontracted_payments"
    version = "1.0"
    default_weight = 0.9
    title = "无合同大额付款"
    description = (
        "Flags single ledger payments on works, goods or services accounts of at least share × the region's tender "
        "limit for that category (per township) that carry no contract number. Basis: village rules require a "
        "contract, a resolution and a tender above the limit; DOMAIN's contract-lifecycle red flags.")
    requires = ("ledger",)
    views = ("contract_links", "payments")
    Params = UncontractedParams

    examples = (
        Example("工程款 15万元（超过 10万元 工程招标限额），没有合同编号",
                {"ledger": [pay("a", "2024-03-01", 150000, "某建设公司", "153001")]}, leads=1),
        Example("同样 15万元，凭证写明合同编号；另一笔 9万元 在限额以下",
                {"ledger": [pay("b", "2024-03-02", 150000, "某建设公司", "153001", contract_no="HT1"),
                            pay("e", "2024-03-05", 90000, "某建设公司", "153001")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        pay = data.payments
        pay = pay[pay["contract_no"].isna() & data.contract_links.isna()]  # an instalment of a contract has one
        cat = pay["role"].map(CATEGORY_BY_ROLE)
        pay = pay.assign(category=cat)[cat.notna()]
        if pay.empty:
            return []
        limit = pd.Series(np.nan, index=pay.index)
        for c in pay["category"].unique():
            m = pay["category"] == c
            limit[m] = data.per_village(pay.loc[m, "village_code"], functools.partial(_limit_for, category=c))
        pay = pay.assign(limit=limit)
        leads = []
        for r in pay[pay["debit"] >= p.share * pay["limit"]].itertuples():
            leads.append(self.lead(
                village_code=r.village_code, score=round(min(0.9, 0.6 + 0.1 * r.debit / r.limit), 4),
                amount_at_risk=float(r.debit),
                title=f"无合同大额付款疑点：{r.counterparty or '（无收款人）'} {wan(r.debit)}",
                explanation=(f"{ymd(r.entry_date)} {r.voucher_no}号凭证向“{r.counterparty or ''}”支付“{r.summary or ''}”"
                             f"{wan(r.debit)}，达到{r.category}招标限额 {wan(r.limit)}，但未注明合同编号。该金额应有合同、"
                             "村民代表会议决议和招标记录，建议调阅合同与决策材料；若合同已签订只是未注明编号，可据合同排除。"),
                evidence=[("ledger", r.entry_id)],
                key=(str(r.entry_id),),
                details={"limit": float(r.limit), "category": r.category},
            ))
        return leads
