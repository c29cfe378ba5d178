"""虚报冒领: subsidies still paid after the claimant died or moved away."""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.examples import Example, claim, resident

from .base import Detector, DetectorInput, Lead, Params, wan, ymd


class AfterExitParams(Params):
    grace_days: int = Field(0, ge=0, le=120, description="Payments this many days after the status date are tolerated "
                            "(a roll prepared before the death was reported)")
    land_programs: tuple[str, ...] = Field(("耕地地力保护补贴",), description="Programs paid on contracted land, "
                                           "which moving out does not end (the land stays in the village; death does)")


class ClaimsAfterExit(Detector):
    name = "claims_after_exit"
    version = "1.1"
    title = "死亡或迁出后仍领取补贴"
    description = (
        "Flags subsidy payments to a claimant whose roster status is 死亡 or 迁出 with a status date on or before "
        "the pay date (after an optional grace period), per person: how long after the change and how much since. "
        "A person who died after the last payment stays quiet. Basis: 纪委 cases of hundreds of deceased people kept "
        "on 低保 and pension rolls for years; county platforms cross-match rolls against 殡葬 and 户籍 records.")
    requires = ("claims", "residents")
    Params = AfterExitParams

    examples = (
        Example("3月1日死亡，3月、4月仍发放养老金",
                {"residents": [resident("11010519491231002X", "张三", status="死亡", status_date="2024-03-01")],
                 "claims": [claim(c, "11010519491231002X", "张三", d, 240, "城乡居民基础养老金", period=d[:7])
                            for c, d in (("a", "2024-02-15"), ("b", "2024-03-15"), ("c", "2024-04-15"))]}, leads=1),
        Example("12月20日死亡，最后一次发放在 12月15日",
                {"residents": [resident("11010519491231002X", "张三", status="死亡", status_date="2024-12-20")],
                 "claims": [claim("a", "11010519491231002X", "张三", "2024-12-15", 240, "城乡居民基础养老金",
                                  period="2024-12")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        r = data["residents"]
        gone = r[r["status"].isin(["死亡", "迁出"]) & r["status_date"].notna()]
        if gone.empty:
            return []
        # a death ends claims everywhere; moving out ends the claims of the village left (a claim in the village
        # moved into is that village's, under its own roster row)
        dead = gone[gone["status"] == "死亡"].sort_values("status_date").drop_duplicates("person_id")
        left = gone[gone["status"] == "迁出"]
        cols = ["person_id", "status", "status_date", "name"]
        claims = data["claims"]
        by_residence = claims[~claims["program"].isin(self.params.land_programs)]
        c = pd.concat([claims.merge(dead[cols], left_on="claimant_id", right_on="person_id"),
                       by_residence.merge(left[cols + ["village_code"]], left_on=["claimant_id", "village_code"],
                                          right_on=["person_id", "village_code"])], ignore_index=True)
        c = c.sort_values(["claim_id", "status"], ascending=[True, False]).drop_duplicates("claim_id")  # 死亡 first
        late = c[(c["pay_date"] - c["status_date"]).dt.days > self.params.grace_days]
        leads = []
        for pid, g in late.sort_values(["pay_date", "claim_id"]).groupby("claimant_id", sort=True):
            first = g.iloc[0]
            total = float(g["amount"].sum())
            days = int((g["pay_date"].max() - first["status_date"]).days)
            died = first["status"] == "死亡"
            leads.append(self.lead(
                village_code=first["village_code"], score=round(min(0.97, (0.85 if died else 0.75) + 0.01 * len(g)), 4),
                amount_at_risk=total,
                title=f"{'死亡' if died else '迁出'}后仍领取补贴疑点：{first['name'] or first['claimant_name']} {len(g)} 笔 {wan(total)}",
                explanation=(f"村民名册显示 {first['name'] or first['claimant_name']} 于 {ymd(first['status_date'])} "
                             f"{'死亡' if died else '迁出'}，此后仍发放 {'、'.join(sorted(g['program'].unique()))} "
                             f"{len(g)} 笔（{ymd(g['pay_date'].min())} 至 {ymd(g['pay_date'].max())}），合计 {wan(total)}，"
                             f"最后一笔在状态变更后 {days} 天，收款账户 {', '.join(sorted(g['bank_account'].dropna().unique()))}。"
                             f"存在冒领疑点，建议核实名册状态与实际领取人；若为状态变更前应发的补发款，可据发放文件排除。"),
                evidence=[("residents", pid)] + [("claims", x) for x in g["claim_id"]], key=("after_exit", pid),
                details=dict(status=first["status"], payments=len(g), days_after=days)))
        return leads
