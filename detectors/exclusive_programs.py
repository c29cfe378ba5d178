"""违规享受多种救助: one person drawing two programs that exclude each other for the same month."""

from __future__ import annotations

from sanzi_audit.detectors.examples import Example, claim

from .base import Detector, DetectorInput, Lead, Params, wan
from .program_rules import programs_of


class ExclusivePrograms(Detector):
    name = "exclusive_programs"
    version = "1.0"
    title = "违规享受多种救助"
    description = (
        "Flags a claimant paid, for the same month, by two programs the county config marks mutually exclusive "
        "(programs.<name>.exclusive_with: 低保 and 特困供养 by 《社会救助暂行办法》, a person moved to 特困 leaves 低保). "
        "Months are those of the pay dates, so a move from one program to the other within the year is no lead. "
        "Basis: 济南 违规享受多种救助筛查模型; 民政 rules on 低保 and 特困 being exclusive.")
    requires = ("claims",)
    Params = Params

    examples = (
        Example("同一人 3月 同时领低保和特困供养（二者不得兼得）",
                {"claims": [claim("A1", "330599197001010011", "某人", "2024-03-15", 780.0, "最低生活保障金",
                                  period="2024-03"),
                            claim("A2", "330599197001010011", "某人", "2024-03-15", 1050.0, "特困人员救助供养金",
                                  period="2024-03")]}, leads=1),
        Example("5月领低保，6月转为特困供养（前后衔接）",
                {"claims": [claim("B1", "330599197101010022", "某人", "2024-05-15", 780.0, "最低生活保障金",
                                  period="2024-05"),
                            claim("B2", "330599197101010022", "某人", "2024-06-15", 1050.0, "特困人员救助供养金",
                                  period="2024-06")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        c = data["claims"]
        pairs = {tuple(sorted((a, b))) for a, p in data.config.programs.items() for b in p.exclusive_with if a != b}
        if c.empty or not pairs:
            return []
        prog = programs_of(data, c)
        c = c.assign(key=prog["key"], month=c["pay_date"].dt.to_period("M").astype("str"))
        c = c[c["key"].isin({x for p in pairs for x in p})]
        leads = []
        for a, b in sorted(pairs):
            ca, cb = c[c["key"] == a], c[c["key"] == b]
            both = ca[["claimant_id", "month"]].merge(cb[["claimant_id", "month"]]).drop_duplicates()
            if both.empty:
                continue
            hit = c[c["key"].isin([a, b])].merge(both, on=["claimant_id", "month"])
            for (pid,), g in hit.groupby(["claimant_id"], sort=True):
                g = g.sort_values(["pay_date", "claim_id"])
                months = sorted(set(g["month"]))
                total_b = float(g.loc[g["key"] == b, "amount"].sum())
                total_a = float(g.loc[g["key"] == a, "amount"].sum())
                name = g["claimant_name"].dropna().iat[0] if g["claimant_name"].notna().any() else pid
                leads.append(self.lead(
                    village_code=g["village_code"].mode().iat[0], score=round(min(0.9, 0.6 + 0.02 * len(months)), 4),
                    amount_at_risk=min(total_a, total_b),
                    title=f"违规享受多种救助疑点：{name} 同月领取{a}和{b}（{len(months)} 个月）",
                    explanation=(f"{name}（{pid}）在 {months[0]} 至 {months[-1]} 的 {len(months)} 个月中同时领取{a}"
                                 f"（{wan(total_a)}）和{b}（{wan(total_b)}），两项按县配置不得同时享受。建议核实救助审批和"
                                 "退出记录；若为转入另一项目当月的过渡发放、已追回重复部分，可据审批记录排除。"),
                    evidence=[("claims", x) for x in g["claim_id"]], key=("exclusive", str(pid), a, b),
                    details=dict(programs=[a, b], months=len(months))))
        return leads
