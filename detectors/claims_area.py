"""虚报面积: claimed area above the roster's contracted area, grown year on year beyond a tolerance, or an amount
out of line with area × rate."""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.examples import Example, claim, resident

from .base import Detector, DetectorInput, Lead, Params, wan


class AreaParams(Params):
    area_tolerance: float = Field(0.5, ge=0, description="亩 above the contracted area still tolerated (rounding, "
                                  "measurement)")
    rate_bands: dict[str, tuple[float, float]] = Field(
        {"耕地地力保护补贴": (90.0, 140.0)}, description="Per program, the plausible 元 per unit (亩) band; "
        "the county's own rate belongs here")
    growth_tolerance: float = Field(0.2, ge=0, description="Growth of a claimant's area over their previous period's "
                                    "claim (same program) still tolerated, as a share (land transfers, 流转)")
    growth_min_area: float = Field(0.5, ge=0, description="亩 of growth below which growth is never flagged (a 60% "
                                   "growth of a 1.5亩 plot is 0.9亩: above it)")


class ClaimsArea(Detector):
    name = "claims_area"
    version = "1.1"
    default_weight = 0.9
    title = "补贴面积或标准异常"
    description = (
        "Flags area-based subsidy claims whose quantity exceeds the claimant's contracted area on the roster "
        "(确权面积) beyond a tolerance, claims whose area grew over the claimant's previous period of the same "
        "program by more than growth_tolerance and growth_min_area (the roster may have been changed to match), "
        "and claims whose amount per unit falls outside the program's rate band "
        "(耕地地力保护补贴 about 90–140 元/亩, configurable per program). Basis: cases of areas over-reported by "
        "6–10 亩 per household, mostly for cadres.")
    requires = ("claims", "residents")
    Params = AreaParams

    examples = (
        Example("按 11 亩领取耕地地力保护补贴，名册承包面积 3 亩",
                {"residents": [resident("11010519491231002X", "张三", contracted_area=3.0)],
                 "claims": [claim("a", "11010519491231002X", "张三", "2024-05-20", 11.0 * 118, period="2024",
                                  quantity=11.0)]}, leads=1),
        Example("3.4 亩对 3 亩：半亩以内的测量取整",
                {"residents": [resident("11010519491231002X", "张三", contracted_area=3.0)],
                 "claims": [claim("a", "11010519491231002X", "张三", "2024-05-20", 3.4 * 118, period="2024",
                                  quantity=3.4)]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        c = data["claims"]
        c = c[c["quantity"].notna() & (c["quantity"] > 0)]
        if c.empty:
            return []
        res = data["residents"]
        # the roster row of the claim's own village first (a person who moved has one per village)
        own = res.drop_duplicates(["person_id", "village_code"]).set_index(["person_id", "village_code"])["contracted_area"]
        any_ = res.dropna(subset=["contracted_area"]).drop_duplicates("person_id").set_index("person_id")["contracted_area"]
        area = pd.Series(own.reindex(pd.MultiIndex.from_arrays([c["claimant_id"], c["village_code"]])).to_numpy(),
                         index=c.index).fillna(c["claimant_id"].map(any_))
        c = c.assign(area=area, rate=c["amount"] / c["quantity"])
        # the same claimant's previous period of the same program (largest claim of that period)
        per = (c.sort_values("quantity").drop_duplicates(["claimant_id", "program", "period"], keep="last")
               .sort_values(["claimant_id", "program", "period"]))
        same = ((per["claimant_id"] == per["claimant_id"].shift()) & (per["program"] == per["program"].shift()))
        prev = per[["quantity", "period", "claim_id"]].shift().where(same)
        prev.columns = ["prev_qty", "prev_period", "prev_claim"]
        c = c.join(prev.set_index(per["claim_id"]), on="claim_id")
        grown = (c["prev_qty"].notna() & (c["quantity"] > c["prev_qty"] * (1 + p.growth_tolerance))
                 & (c["quantity"] - c["prev_qty"] >= p.growth_min_area))
        over = c["area"].notna() & (c["quantity"] > c["area"] + p.area_tolerance)
        lo = c["program"].map({k: v[0] for k, v in p.rate_bands.items()})
        hi = c["program"].map({k: v[1] for k, v in p.rate_bands.items()})
        off_rate = lo.notna() & ((c["rate"] < lo) | (c["rate"] > hi))
        found = []
        for r in c[over | off_rate | grown].sort_values("claim_id").itertuples():
            name = r.claimant_name or r.claimant_id
            parts, score, risk = [], 0.0, 0.0
            if r.area == r.area and r.quantity > r.area + p.area_tolerance:  # area known and exceeded
                excess = r.quantity - r.area
                parts.append(f"申报面积 {r.quantity:g} 亩，名册确权面积 {r.area:g} 亩，多 {excess:.2f} 亩")
                score = max(score, 0.6 + 0.35 * min(1.0, excess / 5))
                risk = excess * r.rate
            grew = r.prev_qty == r.prev_qty and r.quantity > r.prev_qty * (1 + p.growth_tolerance) \
                and r.quantity - r.prev_qty >= p.growth_min_area
            if grew:
                growth = r.quantity / r.prev_qty - 1
                parts.append(f"上期（{r.prev_period}）申报 {r.prev_qty:g} 亩，本期 {r.quantity:g} 亩，增长 {growth:.0%}，"
                             f"超过容许增幅 {p.growth_tolerance:.0%}")
                score = max(score, 0.6 + 0.3 * min(1.0, growth))
                risk = max(risk, (r.quantity - r.prev_qty * (1 + p.growth_tolerance)) * r.rate)
            b = p.rate_bands.get(r.program)
            if b is not None and not (b[0] <= r.rate <= b[1]):
                parts.append(f"每亩 {r.rate:.2f} 元，超出本项目标准 {b[0]:g}–{b[1]:g} 元/亩")
                score = max(score, 0.55)
                risk = max(risk, abs(r.amount - r.quantity * min(max(r.rate, b[0]), b[1])))
            found.append(dict(village=r.village_code, program=r.program, period=r.period, name=name, score=score,
                              risk=float(risk), amount=float(r.amount), text=f"{name}：{'；'.join(parts)}",
                              evidence=[("claims", r.claim_id)] + ([("claims", r.prev_claim)] if grew else [])
                              + ([("residents", r.claimant_id)] if r.area == r.area else []),
                              quantity=r.quantity, area=r.area, grew=bool(grew),
                              previous=r.prev_qty if grew else None))
        # one lead per roll (village, program, period): the households a roll inflates are one pattern to check
        leads = []
        by_roll: dict[tuple, list[dict]] = {}
        for f in found:
            by_roll.setdefault((f["village"], f["program"], f["period"]), []).append(f)
        for (village, program, period), fs in sorted(by_roll.items()):
            score = max(f["score"] for f in fs) + 0.03 * min(3, len(fs) - 1)
            risk = sum(f["risk"] for f in fs)
            who = fs[0]["name"] if len(fs) == 1 else f"{fs[0]['name']} 等 {len(fs)} 户"
            leads.append(self.lead(
                village_code=village, score=round(min(score, 0.95), 4), amount_at_risk=round(risk, 2),
                title=f"补贴面积/标准异常疑点：{who} {program} {period}",
                explanation=(f"{period} 期 {program} 发放清册中 {len(fs)} 户异常：" + "；".join(f["text"] for f in fs[:10])
                             + ("等" if len(fs) > 10 else "") + f"，合计发放 {wan(sum(f['amount'] for f in fs))}。"
                             "存在虚报面积或错算标准的疑点，建议核对确权台账（含变更记录）与发放清册；"
                             "若确权台账已依法变更（流转、调整），可据变更记录排除。"),
                evidence=list(dict.fromkeys(e for f in fs for e in f["evidence"])),
                key=("roll", str(program), str(period)),
                details=dict(households=len(fs), quantity=fs[0]["quantity"], contracted_area=fs[0]["area"],
                             previous_quantity=fs[0]["previous"], grew=sum(f["grew"] for f in fs))))
        return leads
