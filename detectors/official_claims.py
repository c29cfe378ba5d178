"""优亲厚友 on subsidy rolls: cadres and their relatives claiming far more than the village's other households.

Over-reported areas go mostly to cadres (DOMAIN: 6–10亩 per household in real cases), and the roster is often
changed to match, so a claim that agrees with the roster can still be out of line with the village. Compares each
claim of a cadre or a cadre's relative with the same program and period in the same village.
"""

from __future__ import annotations

from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan
from sanzi_audit.detectors.examples import Example, claim, official_row


def _gd(cid: str, pid: str, area: float) -> dict:
    """An example 耕地地力保护补贴 claim for ``area`` 亩 at 110元/亩."""
    return claim(cid, pid, cid, "2024-05-20", round(area * 110, 2), "耕地地力保护补贴", period="2024", quantity=area,
                 bank_account="62")


class OfficialClaimsParams(Params):
    ratio: float = Field(2.0, gt=1, description="Flag a claim above ratio × the median of the village's other "
                         "claimants (same program and period)")
    min_peers: int = Field(10, ge=3, description="Other claimants needed for a comparison")
    peer_quantile: float = Field(0.95, gt=0.5, lt=1, description="The claim must also exceed this quantile of "
                                 "the other claimants")


class OfficialClaims(Detector):
    name = "official_claims"
    version = "1.1"
    default_weight = 0.9
    title = "干部及亲属补贴异常"
    description = (
        "For each subsidy claim by a village cadre or a cadre's close relative (officials table, matched by ID "
        "number), compares the claimed quantity (area; the amount for programs without one) with the village's other "
        "claimants of the same program and period: flags it above ratio × their median and above their "
        "peer_quantile. Basis: DOMAIN's 优亲厚友 cases, areas over-reported mostly for cadres.")
    requires = ("claims", "officials")
    views = ("official_labels",)
    Params = OfficialClaimsParams

    examples = (
        Example("党支部书记按 12 亩领耕地地力保护补贴，本村 30 户在 2–4.75 亩",
                {"claims": [_gd(f"p{i}", f"3305991960010100{i:02d}", 2.0 + 0.25 * (i % 12)) for i in range(30)]
                 + [_gd("c", "330599197001010022", 12.0)],
                 "officials": [official_row("330599197001010022", "李书记")]}, leads=1),
        Example("书记按 4 亩领取，与村民相当",
                {"claims": [_gd(f"p{i}", f"3305991960010100{i:02d}", 2.0 + 0.25 * (i % 12)) for i in range(30)]
                 + [_gd("c", "330599197001010022", 4.0)],
                 "officials": [official_row("330599197001010022", "李书记")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        who = data.official_labels
        c = data["claims"]
        c = c.assign(measure=c["quantity"].where(c["quantity"].notna() & (c["quantity"] > 0), c["amount"]),
                     by_area=c["quantity"].notna() & (c["quantity"] > 0), official=c["claimant_id"].isin(who))
        if not c["official"].any():
            return []
        keys = ["village_code", "program", "period"]
        mine = c[c["official"]]
        peers = c[~c["official"] & c.set_index(keys).index.isin(mine.set_index(keys).index)]
        grouped = peers.groupby(keys)["measure"]
        stats = grouped.agg(peers="size", median="median").join(grouped.quantile(p.peer_quantile).rename("quantile"))
        mine = mine.join(stats, on=keys)
        mine = mine[(mine["peers"] >= p.min_peers) & (mine["median"] > 0)
                    & (mine["measure"] > p.ratio * mine["median"]) & (mine["measure"] > mine["quantile"])]
        leads = []
        # one lead per official and program, every period in it: this year's roll and last year's are one pattern
        for (village, cid, program), g in mine.sort_values(keys + ["claim_id"]).groupby(
                ["village_code", "claimant_id", "program"], sort=True):
            g = g.sort_values(["period", "claim_id"])
            r = g.iloc[-1]  # the latest period leads the text
            med, q, n_peers = float(r["median"]), float(r["quantile"]), int(r["peers"])
            unit = "亩" if r["by_area"] else "元"
            name = r["claimant_name"] or cid
            times = float((g["measure"] / g["median"]).max())
            rate = (g["amount"] / g["measure"]).where(g["by_area"], 1.0)
            excess = float(((g["measure"] - g["quantile"]) * rate).sum())
            periods = "；".join(f"{x.period} 期 {x.measure:g}{unit}（同期中位数 {x.median:g}{unit}）"
                                for x in g.itertuples())
            leads.append(self.lead(
                village_code=village,
                score=round(min(0.9, 0.55 + 0.1 * min(3.5, times - 1) + 0.03 * min(2, len(g) - 1)), 4),
                amount_at_risk=round(excess, 2),
                title=f"干部及亲属补贴异常疑点：{name}（{who[cid]}）{program} 申报 {r['measure']:g}{unit}",
                explanation=(f"{name} 是{who[cid]}，{program}申报：{periods}；最近一期发放 {wan(r['amount'])}，本村同项目"
                             f"同期其他 {n_peers} 名领取人的第 {p.peer_quantile:.0%} 百分位为 {q:g}{unit}，最高为中位数的 "
                             f"{times:.1f} 倍。存在优亲厚友、虚报面积的疑点（名册也可能被同步修改），建议实地核实面积并调阅"
                             "确权变更记录；若有合法的土地流转合同，可据此排除。"),
                evidence=[("claims", x) for x in g["claim_id"]] + [("officials", cid)],
                key=("claimant", str(cid), str(program)),
                details=dict(measure=float(r["measure"]), median=med, quantile=q, peers=n_peers, periods=len(g),
                             relation=who[cid]),
            ))
        return leads
