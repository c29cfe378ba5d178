"""干部亲属享受非普惠补贴: a cadre or close relative drawing a selective program (低保, 特困, 危房改造 …)."""

from __future__ import annotations

from pydantic import Field

from sanzi_audit.detectors.examples import Example, claim, official_row

from .base import Detector, DetectorInput, Lead, Params, wan, ymd
from .program_rules import in_office, programs_of

_OFFICIALS = [  # a chairman in office and his wife; a member out of office since mid-2023 and his son
    official_row("330599196001010015", "刘大", "村委会主任", term_start="2021-01-01", term_end="2026-01-01"),
    official_row("330599196201010026", "王芳", None, "330599196001010015", "配偶"),
    official_row("330599195501010048", "赵老", "村委会委员", term_start="2015-01-01", term_end="2023-06-30"),
    official_row("330599198801010037", "赵小", None, "330599195501010048", "子女")]


class SelectiveOfficialParams(Params):
    score: float = Field(0.6, ge=0, le=1, description="Score of a lead; moderate, as such claims are often "
                         "declared and approved (潜江: most register hits went to 规范整改)")


class SelectiveOfficialClaims(Detector):
    name = "selective_official_claims"
    version = "1.0"
    title = "干部亲属享受非普惠补贴"
    description = (
        "Flags every claim on a program the county marks selective (config programs: 低保, 特困供养, 危房改造, 临时救助 "
        "…) by a village cadre or a cadre's close relative while the cadre is in office, whatever the amount, naming "
        "the program and the relation. Selective programs are decided by the village (民主评议) with the cadres "
        "involved, so such claims must be declared (备案) and are a leading 优亲厚友 pattern in 纪委 cases (贾汪: one "
        "cadre, 9 relatives, 33 payments; 富顺: still on 低保 after becoming 社区主任). Universal programs and claims "
        "before or after the cadre's term are left out.")
    requires = ("claims", "officials")
    views = ("official_labels",)
    Params = SelectiveOfficialParams

    examples = (
        Example("村委会主任在任期间，其配偶领取农村低保金（选择性救助）",
                {"claims": [claim("C1", "330599196201010026", "王芳", "2024-03-15", 300.0, "2024年农村低保金",
                                  period="2024-03")],
                 "officials": _OFFICIALS}, leads=1),
        Example("配偶领取城乡居民基础养老金（普惠性，人人可领）；卸任干部的儿子领低保",
                {"claims": [claim("C2", "330599196201010026", "王芳", "2024-03-15", 200.0, "城乡居民基础养老金",
                                  period="2024-03"),
                            claim("C3", "330599198801010037", "赵小", "2024-03-15", 780.0, "最低生活保障金",
                                  period="2024-03")],
                 "officials": _OFFICIALS}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        c = data["claims"]
        if c.empty:
            return []
        prog = programs_of(data, c)
        c = c[(prog["kind"] == "selective").to_numpy()].assign(key=prog["key"])
        if c.empty:
            return []
        c = c.assign(who=in_office(data, c))
        c = c[c["who"].notna()]
        leads = []
        for (village, pid, key), g in c.groupby(["village_code", "claimant_id", "key"], sort=True):
            g = g.sort_values(["pay_date", "claim_id"])
            total = float(g["amount"].sum())
            who, name = g["who"].iat[0], g["claimant_name"].dropna().iat[0] if g["claimant_name"].notna().any() else pid
            own = who.endswith("本人")
            leads.append(self.lead(
                village_code=village, score=round(min(0.95, self.params.score + (0.1 if own else 0.0)
                                                      + 0.02 * min(5, len(g) - 1)), 4), amount_at_risk=total,
                title=f"干部亲属享受非普惠补贴疑点：{name}（{who}）领取{key} {len(g)} 笔",
                explanation=(f"{name} 是{who}，在该干部任职期间领取{key}（{g['program'].iat[0]}，县配置为选择性救助项目）"
                             f"{len(g)} 笔、合计 {wan(total)}，首笔 {ymd(g['pay_date'].iat[0])}，末笔 {ymd(g['pay_date'].iat[-1])}。"
                             "低保、特困等选择性救助由村级评议确定，村干部及近亲属享受须按规定备案并公示，建议调阅评议、公示和"
                             "备案材料，核实家庭收入和财产；若已按规定备案且经乡镇审核符合条件，可据备案材料排除。"),
                evidence=[("claims", x) for x in g["claim_id"]] + [("officials", pid)],
                key=("selective", str(pid), str(key)),
                details=dict(program=key, relation=who, claims=len(g))))
        return leads
