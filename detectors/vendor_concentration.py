"""One contractor taking a dominant share of a village's works without open tender."""

from __future__ import annotations

from pydantic import Field

from .base import Detector, DetectorInput, Lead, Params, wan


class ConcentrationParams(Params):
    min_share: float = Field(0.5, gt=0, le=1, description="Share of the village's untendered works money that raises a lead")
    min_contracts: int = Field(3, ge=2, description="Minimum contracts the vendor holds")
    categories: tuple[str, ...] = Field(("工程",), description="Contract categories considered")


class VendorConcentration(Detector):
    name = "vendor_concentration"
    version = "1.0"
    title = "承包方集中"
    description = (
        "Flags a vendor (after entity resolution) that holds at least half of a village's untendered contract "
        "money in a category, with several contracts. Basis: a 纪委 case of one contractor taking about half of "
        "a village's projects and 61% of the money without bidding.")
    requires = ("contracts",)
    Params = ConcentrationParams

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        c = data["contracts"]
        c = c[c["category"].isin(p.categories) & c["method"].fillna("").ne("公开招标") & c["amount"].notna()].copy()
        if c.empty:
            return []
        c["entity"] = c["contract_no"].map(data.entities.for_source("contracts")["entity"])
        leads = []
        for village, g in c.groupby("village_code", sort=True):
            total = float(g["amount"].sum())
            if len(g) < p.min_contracts or total <= 0:
                continue
            by = g.groupby("entity").agg(amount=("amount", "sum"), n=("contract_no", "size"),
                                         vendor=("vendor", "first"), nos=("contract_no", list))
            for entity, r in by.iterrows():
                share = r["amount"] / total
                if share < p.min_share or r["n"] < p.min_contracts:
                    continue
                score = min(0.8, 0.35 + 0.5 * (share - p.min_share) + 0.05 * (r["n"] - p.min_contracts))
                leads.append(self.lead(
                    village_code=village, score=round(float(score), 4), amount_at_risk=float(r["amount"]),
                    title=f"承包方集中疑点：{r['vendor']} 承接本村 {share:.0%} 的未招标工程款",
                    explanation=(f"本村未经公开招标的{'/'.join(p.categories)}类合同共 {len(g)} 份、合计 {wan(total)}，"
                                 f"其中“{r['vendor']}”承接 {r['n']} 份、{wan(float(r['amount']))}，占 {share:.0%}。"
                                 f"建议核查承包方选择程序及其与村干部的关系。"),
                    evidence=[("contracts", x) for x in sorted(r["nos"])], key=("concentration", str(entity)),
                    details=dict(share=round(float(share), 3), contracts=int(r["n"]), village_total=total)))
        return leads
