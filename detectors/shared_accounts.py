"""一个账户多人收款: one bank account paid under several names (ledger) or for several claimants (claims)."""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.examples import Example, pay, resident

from .base import Detector, DetectorInput, Lead, Params, wan


class SharedAccountParams(Params):
    min_names: int = Field(3, ge=2, description="Distinct payee names on one account (ledger) that raise a lead")
    min_households: int = Field(3, ge=2, description="Distinct households of claimants on one account (claims)")
    cadre_linked_min: int = Field(2, ge=2, description="Lower bar when the account is used by a cadre or relative")


class SharedAccounts(Detector):
    name = "shared_accounts"
    version = "1.0"
    default_weight = 0.9
    title = "一个账户多人收款"
    description = (
        "Flags a bank account that receives payments under several payee names in the ledger, or subsidy "
        "claims for people of several households. Members of one household (spouses sharing an account) are "
        "not counted apart, so that honest case stays quiet; a lower bar applies when the account is used by a "
        "cadre or a cadre's relative. Basis: cases of an official holding 267 villagers' passbooks, and labour "
        "paid under villagers' names into one relative's account.")
    requires = ("ledger",)
    uses = ("claims", "residents", "officials")
    views = ("entities", "official_accounts", "payments")
    Params = SharedAccountParams

    examples = (
        Example("三个不同姓名的收款人收款到同一个银行账户",
                {"ledger": [pay(f"m{i}", "2024-03-01", 1500, n, "213001", counterparty_account="6228489999999999999")
                            for i, n in enumerate(["甲一", "乙二", "丙三"])]}, leads=1),
        Example("夫妻二人（同一户）共用一个账户",
                {"ledger": [pay("c1", "2024-03-01", 800, "丁四", "213001", counterparty_id="P1", counterparty_account="A2"),
                            pay("c2", "2024-03-02", 900, "戊五", "213001", counterparty_id="P2", counterparty_account="A2")],
                 "residents": [resident("P1", "丁四"), resident("P2", "戊五")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        household = _households(data)
        cadre_accounts = _official_accounts(data)
        leads = self._ledger(data, household, cadre_accounts)
        if data.has("claims"):
            leads += self._claims(data, household, cadre_accounts)
        return leads

    def _ledger(self, data, household: pd.Series, cadre_accounts: dict[str, str]) -> list[Lead]:
        p = self.params
        pay = data.payments
        pay = pay[pay["counterparty_account"].notna() & ~pay["role"].isin(["payroll"])].copy()
        ent = data.entities.of_payments(pay.index)
        pay["name_norm"] = ent["name_norm"]
        pay["entity"] = ent["entity"]
        # one payee counts once: by household when known, else by resolved entity
        pid_house = pay["counterparty_id"].map(household)
        pay["who"] = pid_house.where(pid_house.notna(), pay["entity"])
        stats = pay.groupby("counterparty_account")[["name_norm", "who"]].nunique()
        candidates = stats.index[(stats["name_norm"] >= p.cadre_linked_min) & (stats["who"] >= p.cadre_linked_min)]
        leads = []
        for acct, g in pay[pay["counterparty_account"].isin(candidates)].groupby("counterparty_account", sort=True):
            names = g["name_norm"].nunique()
            whos = g["who"].nunique()
            linked = cadre_accounts.get(acct)
            need = p.cadre_linked_min if linked else p.min_names
            if names < need or whos < need:
                continue
            by_name = g.groupby("counterparty")["debit"].sum().sort_values(ascending=False)
            owner_share = float(by_name.iloc[0])
            total = float(g["debit"].sum())
            score = min(0.95, 0.5 + 0.1 * min(4, whos - 2) + (0.15 if linked else 0.0))
            listing = "、".join(f"{n}（{wan(v)}）" for n, v in by_name.items())
            link = f"该账户为{linked}所用。" if linked else ""
            leads.append(self.lead(
                village_code=g["village_code"].mode().iloc[0], score=round(score, 4),
                amount_at_risk=total - owner_share if not linked else total,
                title=f"一个账户多人收款疑点：账户 {acct} 收取 {names} 个名字的款项",
                explanation=(f"银行账户 {acct} 在 {len(g)} 笔付款中以 {names} 个不同收款人名义收款: {listing}，"
                             f"合计 {wan(total)}。{link}多人共用一个收款账户可能是代领或虚列人员，建议核实各收款人"
                             f"是否本人实际提供劳务并收到款项；若为同户家人共用账户或经书面委托代收，可据委托书排除。"),
                evidence=[("ledger", e) for e in g["entry_id"]], key=("ledger_account", acct),
                details=dict(account=acct, names=names, payments=len(g), cadre_linked=bool(linked))))
        return leads

    def _claims(self, data, household: pd.Series, cadre_accounts: dict[str, str]) -> list[Lead]:
        p = self.params
        c = data["claims"]
        c = c[c["bank_account"].notna()].copy()
        c["house"] = c["claimant_id"].map(household)
        c["house"] = c["house"].where(c["house"].notna(), "id:" + c["claimant_id"].fillna(""))
        stats = c.groupby("bank_account")["house"].nunique()
        candidates = stats[stats >= min(p.min_households, p.cadre_linked_min)].index
        leads = []
        for acct, g in c[c["bank_account"].isin(candidates)].groupby("bank_account", sort=True):
            houses = g["house"].nunique()
            linked = cadre_accounts.get(acct)
            if houses < (p.cadre_linked_min if linked else p.min_households):
                continue
            people = g.groupby(["claimant_id", "claimant_name"]).size().reset_index()
            total = float(g["amount"].sum())
            score = min(0.98, 0.55 + 0.05 * min(6, houses - 1) + (0.2 if linked else 0.0))
            names = "、".join(people["claimant_name"].head(12)) + ("等" if len(people) > 12 else "")
            link = f"该账户为{linked}所用。" if linked else ""
            leads.append(self.lead(
                village_code=g["village_code"].mode().iloc[0], score=round(score, 4), amount_at_risk=total,
                title=f"补贴代领疑点：账户 {acct} 领取 {len(people)} 人（{houses} 户）的补贴",
                explanation=(f"银行账户 {acct} 收取了 {len(people)} 名领取人（分属 {houses} 户）的补贴 {len(g)} 笔，"
                             f"合计 {wan(total)}，项目: {'、'.join(sorted(g['program'].unique()))}。领取人: {names}。"
                             f"{link}补贴应发放至本人一卡通账户，建议核实是否存在代领、截留情形；若为同户家人或经委托代领，"
                             f"可据委托书排除。"),
                evidence=[("claims", x) for x in g["claim_id"]], key=("claims_account", acct),
                details=dict(account=acct, claimants=len(people), households=houses, cadre_linked=bool(linked))))
        return leads


def _households(data) -> pd.Series:
    if not data.has("residents"):
        return pd.Series(dtype="object")
    r = data["residents"]
    r = r[r["household_id"].notna()]
    return pd.Series(r["household_id"].to_numpy(), index=r["person_id"].to_numpy()).groupby(level=0).first()


def _official_accounts(data) -> dict[str, str]:
    """Account → a label of whose it is (村干部X（职务） / 村干部近亲属Y（关系）)."""
    if not data.has("officials"):
        return {}
    label: dict[str, str] = {}
    o = data["officials"].sort_values(["person_id", "related_to"], na_position="first", kind="stable")
    for r in o.itertuples():
        own = r.relation in ("本人", None) or r.related_to is None or pd.isna(r.related_to)
        label.setdefault(r.person_id, f"村干部{r.name}（{r.role}）" if own else f"村干部近亲属{r.name}（{r.relation}）")
    return {acct: "、".join(label[pid] for pid in pids if pid in label) for acct, pids in data.official_accounts.items()}
