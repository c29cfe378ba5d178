"""一人多卡: one claimant's subsidies paid into several bank accounts at the same time."""

from __future__ import annotations

from pydantic import Field

from sanzi_audit.detectors.examples import Example, claim

from .base import Detector, DetectorInput, Lead, Params, wan, ymd


class MultiCardParams(Params):
    min_accounts: int = Field(2, ge=2, description="Accounts in use at the same time that raise a lead")


class ClaimsMultiCard(Detector):
    name = "claims_multi_card"
    version = "1.0"
    title = "一人多卡"
    scope = "county"  # a person's accounts are gathered across villages
    description = (
        "Flags a claimant whose subsidies (any program) are paid into min_accounts or more bank accounts in use at the "
        "same time: each account's first to last pay date overlaps another's. All of a person's 惠民惠农 payments go "
        "to one 社会保障卡 or 一卡通 (财办〔2020〕37号); extra cards in a person's name are how 代领 and 截留 hide "
        "(凉山: up to 14 cards per household). A card replaced mid-year (the old one's last payment before the new "
        "one's first) is no lead.")
    requires = ("claims",)
    Params = MultiCardParams

    examples = (
        Example("同一人全年养老金和高龄津贴发到两张不同的卡",
                {"claims": [claim(f"P{m}", "330599197001010011", "某人", f"2024-{m:02d}-15", 260.0, "城乡居民基础养老金",
                                  period=f"2024-{m:02d}", bank_account="6228001") for m in range(1, 13)]
                 + [claim(f"G{m}", "330599197001010011", "某人", f"2024-{m:02d}-15", 100.0, "高龄津贴",
                          period=f"2024-{m:02d}", bank_account="6228999") for m in range(1, 13)]}, leads=1),
        Example("年中换卡：上半年一张卡，下半年另一张",
                {"claims": [claim(f"Q{m}", "330599197101010022", "某人", f"2024-{m:02d}-15", 260.0, "城乡居民基础养老金",
                                  period=f"2024-{m:02d}", bank_account="6228002" if m < 7 else "6228003")
                            for m in range(1, 13)]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        c = data["claims"]
        c = c[c["bank_account"].notna() & c["claimant_id"].notna()]
        if c.empty:
            return []
        n = c.groupby("claimant_id")["bank_account"].nunique()
        c = c[c["claimant_id"].isin(n.index[n >= self.params.min_accounts])]
        leads = []
        for pid, g in c.groupby("claimant_id", sort=True):
            spans = g.groupby("bank_account")["pay_date"].agg(["min", "max"]).sort_values(["min", "max"])
            # accounts in use together: a span that starts before an earlier one has ended
            live, best, running_end = 1, 1, spans["max"].iat[0]
            concurrent = {spans.index[0]}
            for acct, (lo, hi) in list(spans.iterrows())[1:]:
                if lo <= running_end:
                    live += 1
                    concurrent |= {acct}
                else:
                    live, concurrent = 1, {acct}
                running_end = max(running_end, hi)
                best = max(best, live)
            if best < self.params.min_accounts:
                continue
            g = g[g["bank_account"].isin(concurrent)].sort_values(["pay_date", "claim_id"])
            per = g.groupby("bank_account").agg(n=("claim_id", "size"), total=("amount", "sum"),
                                                 programs=("program", lambda s: "、".join(sorted(set(s)))))
            listing = "；".join(f"{a}: {r.n} 笔 {wan(r.total)}（{r.programs}）" for a, r in per.iterrows())
            name = g["claimant_name"].dropna().iat[0] if g["claimant_name"].notna().any() else pid
            extra = float(per["total"].sum() - per["total"].max())
            leads.append(self.lead(
                village_code=g["village_code"].mode().iat[0], score=round(min(0.8, 0.5 + 0.1 * (best - 2)), 4),
                amount_at_risk=extra,
                title=f"一人多卡疑点：{name} 的补贴同时发放到 {best} 个账户",
                explanation=(f"{name}（{pid}）的补贴在 {ymd(g['pay_date'].iat[0])} 至 {ymd(g['pay_date'].iat[-1])} 间同时发放到 "
                             f"{best} 个银行账户: {listing}。惠民惠农补贴应统一发放到本人社保卡或一卡通，多张卡并用可能是代领"
                             "或截留，建议核实各账户的开户人和实际持卡人；若为换卡期间新旧卡短暂并用、或经批准的专户，"
                             "可据银行换卡记录排除。"),
                evidence=[("claims", x) for x in g["claim_id"]], key=("cards", str(pid)),
                details=dict(accounts=best)))
        return leads
