"""超期租赁: a lease or 发包 of collective assets or resources longer than the law allows."""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.examples import Example, lease

from .base import Detector, DetectorInput, Lead, Params, wan, ymd


class LeaseTermParams(Params):
    max_years: float = Field(20.0, gt=0, description="Longest lawful lease (民法典 §705: the excess over 20 years is "
                             "void)")
    wasteland_years: float = Field(50.0, gt=0, description="Longest 四荒 (荒山、荒沟、荒丘、荒滩) 承包")
    wasteland_words: tuple[str, ...] = Field(("四荒", "荒山", "荒沟", "荒丘", "荒滩", "荒地"),
                                             description="Words in a contract's title that make it a 四荒 承包")


class LeaseTerms(Detector):
    name = "lease_terms"
    version = "1.0"
    title = "超期租赁"
    description = (
        "Flags leases and 发包 of collective assets and resources (contract category 资产租赁/资源发包, or a contract "
        "with an annual rent) whose term — term_years, else end_date minus start_date (or sign_date) — exceeds "
        "max_years, or wasteland_years for 四荒 承包. Basis: 民法典 §705 (a lease may not exceed 20 years, the excess is "
        "void); 四荒 承包 beyond 50 years is void (柴家镇 清化收). Over-long leases tie collective property up cheaply "
        "for a generation and are a common 三资 清理 finding.")
    requires = ("contracts",)
    Params = LeaseTermParams

    examples = (
        Example("厂房租期 30 年（超过民法典规定的 20 年上限）",
                {"contracts": [lease("L1", "2022-03-01", 30, 20000)]}, leads=1),
        Example("荒山承包 40 年（荒山可达 50 年）；厂房租期 20 年",
                {"contracts": [lease("L2", "2021-04-01", 40, 3000, title="后山荒山承包"),
                               lease("L3", "2024-01-01", 20, 8000)]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        c = data["contracts"]
        lease = c["category"].fillna("").str.contains("租赁|发包|承包") | c["annual_rent"].notna()
        c = c[lease]
        if c.empty:
            return []
        start = c["start_date"].fillna(c["sign_date"])
        span = (c["end_date"] - start).dt.days / 365.25
        years = c["term_years"].where(c["term_years"].notna(), span.round(1))
        waste = c["title"].fillna("").str.contains("|".join(self.params.wasteland_words))
        limit = pd.Series(self.params.max_years, index=c.index).where(~waste, self.params.wasteland_years)
        c = c.assign(years=years, limit=limit, start=start)[years > limit + 0.05]
        leads = []
        for r in c.sort_values(["village_code", "contract_no"]).itertuples():
            excess = float(r.years - r.limit)
            rent = r.annual_rent if r.annual_rent == r.annual_rent else (r.amount / r.years if r.years else 0)
            leads.append(self.lead(
                village_code=r.village_code, score=round(min(0.85, 0.55 + 0.01 * excess), 4),
                amount_at_risk=round(float(rent or 0) * excess, 2),
                title=f"超期租赁疑点：{r.title or r.contract_no} 租期 {r.years:g} 年，超过 {r.limit:g} 年",
                explanation=(f"合同 {r.contract_no}（{r.title or ''}，{r.vendor or ''}，{ymd(r.sign_date)} 签订）约定租期 "
                             f"{r.years:g} 年，超过法定上限 {r.limit:g} 年（民法典第七百零五条：租赁期限超过二十年的，超过部分"
                             f"无效；四荒承包不超过五十年），超出 {excess:g} 年、约 {wan(float(rent or 0) * excess)} 租金。"
                             "建议核查民主决策和审批，按规定清理纠正；若租期实为分段续签（每段不超过上限）或合同期限录入错误，"
                             "可据合同原件排除。"),
                evidence=[("contracts", r.contract_no)], key=("term", str(r.contract_no)),
                details=dict(years=float(r.years), limit=float(r.limit))))
        return leads
