"""虚报冒领: subsidies still paid after the claimant died or moved away."""

from __future__ import annotations

from pydantic import Field

from .base import Detector, DetectorInput, Lead, Params, wan, ymd


class AfterExitParams(Params):
    grace_days: int = Field(0, ge=0, le=120, description="Payments this many days after the status date are tolerated "
                            "(a roll prepared before the death was reported)")


class ClaimsAfterExit(Detector):
    name = "claims_after_exit"
    version = "1.0"
    title = "死亡或迁出后仍领取补贴"
    description = (
        "Flags subsidy payments to a claimant whose roster status is 死亡 or 迁出 with a status date on or before "
        "the pay date (after an optional grace period), per person: how long after the change and how much since. "
        "A person who died after the last payment stays quiet. Basis: 纪委 cases of hundreds of deceased people kept "
        "on 低保 and pension rolls for years; county platforms cross-match rolls against 殡葬 and 户籍 records.")
    requires = ("claims", "residents")
    Params = AfterExitParams

    def detect(self, data: DetectorInput) -> list[Lead]:
        r = data["residents"]
        gone = r[r["status"].isin(["死亡", "迁出"]) & r["status_date"].notna()].drop_duplicates("person_id")
        if gone.empty:
            return []
        c = data["claims"].merge(gone[["person_id", "status", "status_date", "name"]], left_on="claimant_id",
                                 right_on="person_id")
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
