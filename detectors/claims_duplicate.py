"""重复领取: one person paid more than once for the same program and period, in one village or several."""

from __future__ import annotations

from sanzi_audit.detectors.examples import V2, Example, claim

from .base import Detector, DetectorInput, Lead, Params, wan


class ClaimsDuplicate(Detector):
    name = "claims_duplicate"
    version = "1.0"
    title = "同一人同期重复领取"
    scope = "county"  # one person paid twice in a period, in two villages, is one lead
    description = (
        "Flags an ID number paid more than once for the same subsidy program and period, within one village or "
        "across villages (county-wide). Basis: cases of relatives split into separate households, or one person "
        "put on two villages' rolls, to claim twice.")
    requires = ("claims",)
    Params = Params

    examples = (
        Example("同一人同一月份在两个村各领一次养老金",
                {"claims": [claim("a", "11010519491231002X", "张三", "2024-03-15", 240, "城乡居民基础养老金",
                                  period="2024-03"),
                            claim("b", "11010519491231002X", "张三", "2024-03-18", 240, "城乡居民基础养老金",
                                  period="2024-03", village_code=V2)]}, leads=1),
        Example("同一人连续两个月各领一次（按月发放）",
                {"claims": [claim("a", "11010519491231002X", "张三", "2024-03-15", 240, "城乡居民基础养老金",
                                  period="2024-03"),
                            claim("c", "11010519491231002X", "张三", "2024-04-15", 240, "城乡居民基础养老金",
                                  period="2024-04")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        c = data["claims"]
        c = c[c["claimant_id"].notna()]
        dup = c[c.duplicated(["claimant_id", "program", "period"], keep=False)]
        leads = []
        for (pid, program, period), g in dup.sort_values(["pay_date", "claim_id"]).groupby(
                ["claimant_id", "program", "period"], sort=True):
            villages = sorted(g["village_code"].unique())
            extra = float(g["amount"].sum() - g["amount"].max())
            accounts = g["bank_account"].nunique()
            score = 0.8 + (0.1 if len(villages) > 1 else 0.0) + (0.05 if accounts > 1 else 0.0)
            name = g["claimant_name"].iloc[0] or pid
            listing = "；".join(f"{r.village_code} {r.pay_date:%Y-%m-%d} {wan(r.amount)} 账户 {r.bank_account}"
                               for r in g.itertuples())
            leads.append(self.lead(
                village_code=g["village_code"].iloc[0], score=round(score, 4), amount_at_risk=extra,
                title=f"重复领取疑点：{name} {program} {period} 领取 {len(g)} 次",
                explanation=(f"身份证号 {pid}（{name}）在 {period} 期 {program} 中被发放 {len(g)} 次"
                             f"{'（跨 ' + str(len(villages)) + ' 个村）' if len(villages) > 1 else ''}: {listing}。"
                             f"多发 {wan(extra)}，建议核查是否重复列入发放名单；若为补发上期漏发款项，可据补发文件排除。"),
                evidence=[("claims", x) for x in g["claim_id"]], key=("dup_claim", pid, program, str(period)),
                details=dict(times=len(g), villages=len(villages), accounts=accounts)))
        return leads
