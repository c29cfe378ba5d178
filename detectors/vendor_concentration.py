"""One contractor taking a dominant share of a village's works without open tender."""

from __future__ import annotations

from pydantic import Field

from sanzi_audit.detectors.examples import Example, contract

from .base import Detector, DetectorInput, Lead, Params, wan


class ConcentrationParams(Params):
    min_share: float = Field(0.5, gt=0, le=1, description="Share of the village's untendered works money that raises a lead")
    min_contracts: int = Field(3, ge=2, description="Minimum contracts the vendor holds")
    categories: tuple[str, ...] = Field(("工程",), description="Contract categories considered")


class VendorConcentration(Detector):
    name = "vendor_concentration"
    version = "1.0"
    default_weight = 0.6
    title = "承包方集中"
    description = (
        "Flags a vendor (after entity resolution) that holds at least half of a village's untendered contract "
        "money in a category, with several contracts. Basis: a 纪委 case of one contractor taking about half of "
        "a village's projects and 61% of the money without bidding.")
    requires = ("contracts",)
    views = ("entities",)
    uses_payee = True
    Params = ConcentrationParams

    examples = (
        Example("本村 6 份未招标工程中 4 份、约 60% 的金额给了同一家公司",
                {"contracts": [contract(f"A{i}", f"2024-0{i + 1}-01", 60000, "演示县福桃装饰工程有限公司",
                                        title=f"{i + 1}组道路修补", method="询价") for i in range(4)]
                 + [contract(f"B{i}", f"2024-0{i + 5}-01", 80000, f"演示县{n}建筑有限公司", title=f"{i + 5}组排水沟",
                             method="询价") for i, n in enumerate(["甲", "乙"])]}, leads=1),
        Example("4 家公司各承接一到两份，没有一家过半",
                {"contracts": [contract(f"C{i}", f"2024-0{i + 1}-01", 60000, f"演示县{n}建筑有限公司",
                                        title=f"{i + 1}组道路修补", method="询价")
                               for i, n in enumerate(["甲", "乙", "丙", "丁", "甲", "乙"])]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        c = data["contracts"]
        c = c[c["category"].isin(p.categories) & c["method"].fillna("").ne("公开招标") & c["amount"].notna()].copy()
        if c.empty:
            return []
        c["entity"] = c["contract_no"].map(data.entities.for_source("contracts")["entity"])
        by = c.groupby(["village_code", "entity"], sort=True).agg(
            amount=("amount", "sum"), n=("contract_no", "size"), vendor=("vendor", "first")).reset_index()
        village = c.groupby("village_code").agg(total=("amount", "sum"), count=("contract_no", "size"))
        by = by.join(village, on="village_code")
        by["share"] = by["amount"] / by["total"]
        hit = by[(by["count"] >= p.min_contracts) & (by["total"] > 0) & (by["share"] >= p.min_share)
                 & (by["n"] >= p.min_contracts)]
        nos = c[c.set_index(["village_code", "entity"]).index.isin(hit.set_index(["village_code", "entity"]).index)]
        nos = nos.groupby(["village_code", "entity"])["contract_no"].agg(sorted)
        leads = []
        for r in hit.itertuples(index=False):
            score = min(0.8, 0.35 + 0.5 * (r.share - p.min_share) + 0.05 * (r.n - p.min_contracts))
            leads.append(self.lead(
                village_code=r.village_code, score=round(float(score), 4), amount_at_risk=float(r.amount),
                title=f"承包方集中疑点：{r.vendor} 承接本村 {r.share:.0%} 的未招标工程款",
                explanation=(f"本村未经公开招标的{'/'.join(p.categories)}类合同共 {r.count} 份、合计 {wan(r.total)}，"
                             f"其中“{r.vendor}”承接 {r.n} 份、{wan(float(r.amount))}，占 {r.share:.0%}。"
                             f"建议核查承包方选择程序及其与村干部的关系；若当地只有该承包方具备资质或经比选确定，可据比选记录排除。"),
                evidence=[("contracts", x) for x in nos[(r.village_code, r.entity)]],
                key=("concentration", str(r.entity)),
                details=dict(share=round(float(r.share), 3), contracts=int(r.n), village_total=float(r.total))))
        return leads
