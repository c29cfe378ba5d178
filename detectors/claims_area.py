"""虚报面积: claimed area above the roster's contracted area, or an amount out of line with area × rate."""

from __future__ import annotations

from pydantic import Field

from .base import Detector, DetectorInput, Lead, Params, wan


class AreaParams(Params):
    area_tolerance: float = Field(0.5, ge=0, description="亩 above the contracted area still tolerated (rounding, "
                                  "measurement)")
    rate_bands: dict[str, tuple[float, float]] = Field(
        {"耕地地力保护补贴": (90.0, 140.0)}, description="Per program, the plausible 元 per unit (亩) band; "
        "the county's own rate belongs here")


class ClaimsArea(Detector):
    name = "claims_area"
    version = "1.0"
    title = "补贴面积或标准异常"
    description = (
        "Flags area-based subsidy claims whose quantity exceeds the claimant's contracted area on the roster "
        "(确权面积) beyond a tolerance, and claims whose amount per unit falls outside the program's rate band "
        "(耕地地力保护补贴 about 90–140 元/亩, configurable per program). Basis: cases of areas over-reported by "
        "6–10 亩 per household, mostly for cadres.")
    requires = ("claims", "residents")
    Params = AreaParams

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        c = data["claims"]
        c = c[c["quantity"].notna() & (c["quantity"] > 0)]
        if c.empty:
            return []
        area = data["residents"].drop_duplicates("person_id").set_index("person_id")["contracted_area"]
        c = c.assign(area=c["claimant_id"].map(area), rate=c["amount"] / c["quantity"])
        over = c["area"].notna() & (c["quantity"] > c["area"] + p.area_tolerance)
        lo = c["program"].map({k: v[0] for k, v in p.rate_bands.items()})
        hi = c["program"].map({k: v[1] for k, v in p.rate_bands.items()})
        off_rate = lo.notna() & ((c["rate"] < lo) | (c["rate"] > hi))
        leads = []
        for r in c[over | off_rate].sort_values("claim_id").itertuples():
            name = r.claimant_name or r.claimant_id
            parts, score, risk = [], 0.0, 0.0
            if r.area == r.area and r.quantity > r.area + p.area_tolerance:  # area known and exceeded
                excess = r.quantity - r.area
                parts.append(f"申报面积 {r.quantity:g} 亩，名册确权面积 {r.area:g} 亩，多 {excess:.2f} 亩")
                score = max(score, 0.6 + 0.35 * min(1.0, excess / 5))
                risk = excess * r.rate
            b = p.rate_bands.get(r.program)
            if b is not None and not (b[0] <= r.rate <= b[1]):
                parts.append(f"每亩 {r.rate:.2f} 元，超出本项目标准 {b[0]:g}–{b[1]:g} 元/亩")
                score = max(score, 0.55)
                risk = max(risk, abs(r.amount - r.quantity * min(max(r.rate, b[0]), b[1])))
            leads.append(self.lead(
                village_code=r.village_code, score=round(score, 4), amount_at_risk=round(float(risk), 2),
                title=f"补贴面积/标准异常疑点：{name} {r.program} {r.period}",
                explanation=(f"{name} 在 {r.period} 期 {r.program} 中{'；'.join(parts)}，发放 {wan(r.amount)}。"
                             f"存在虚报面积或错算标准的疑点，建议核对确权台账与发放清册。"),
                evidence=[("claims", r.claim_id), ("residents", r.claimant_id)] if r.area == r.area
                else [("claims", r.claim_id)],
                key=("area", r.claim_id), details=dict(quantity=r.quantity, contracted_area=r.area, rate=r.rate)))
        return leads
