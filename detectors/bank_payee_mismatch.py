"""收款人不符: the books name one payee, the bank paid someone else's account."""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.examples import (
    Example,
    bank_payment,
    bank_row,
    bank_year,
    official_row,
    resident,
)
from sanzi_audit.entities import is_org, make_normaliser

from .base import Detector, DetectorInput, Lead, Params, wan, ymd


class BankPayeeMismatchParams(Params):
    min_amount: float = Field(500.0, ge=0, description="Accounts receiving less than this in total (元) under other "
                              "names are left out, unless the holder is a cadre or close relative")
    max_rows: int = Field(20, ge=1, description="Payments listed in one lead's explanation")


class BankPayeeMismatch(Detector):
    name = "bank_payee_mismatch"
    version = "1.0"
    default_weight = 0.9
    title = "收款人不符"
    description = (
        "Compares the payee each ledger payment names with the holder of the account the bank statement shows the "
        "money went to (the bank row matched to the payment's 银行存款 line). Where they differ, the money may have "
        "gone to someone other than the person the books say did the work: 冒名领取, 虚列人员, a cadre collecting "
        "villagers' pay. Left out: name variants of one firm, a shop paid into its owner's own account (the owner's "
        "name is in the shop's), and a member of the payee's household (委托家人代收). Basis: 纪委 cases of labour and "
        "subsidies booked under villagers' names and paid into a cadre's or relative's account.")
    requires = ("ledger", "bank")
    uses = ("residents", "officials")
    views = ("official_of", "payments")
    uses_payee = True
    Params = BankPayeeMismatchParams

    examples = (
        Example("账上付给吴建 2,000元，银行实际转入刘健（村委会主任的配偶）的账户",
                {"ledger": bank_year()[0] + bank_payment("V1", "2024-04-01", 2000.0, "吴建", pid="330599198001010013"),
                 "bank": bank_year()[1] + [bank_row("B1", "2024-04-01", out=2000.0, name="刘健", account="6228777")],
                 "residents": [resident("330599198001010013", "吴建", household_id="H2"),
                               resident("330599198501010014", "刘健", household_id="H3")],
                 "officials": [official_row("330599196001010015", "刘大", "村委会主任"),
                               official_row("330599198501010014", "刘健", None, "330599196001010015", "配偶")]},
                leads=1),
        Example("付给王洋，银行转入同户的王建平（家人代收）",
                {"ledger": bank_year()[0] + bank_payment("V2", "2024-04-02", 1500.0, "王洋", pid="330599195001010011"),
                 "bank": bank_year()[1] + [bank_row("B2", "2024-04-02", out=1500.0, name="王建平", account="6228778")],
                 "residents": [resident("330599195001010011", "王洋"), resident("330599194801010012", "王建平")]},
                leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        pay = data.payments
        if pay.empty or "bank_name" not in pay:
            return []
        pay = pay[pay["bank_name"].notna() & pay["counterparty"].notna()]
        if pay.empty:
            return []
        norm = make_normaliser(data.config.region.name)
        booked, holder = norm(pay["counterparty"]).to_numpy(), norm(pay["bank_name"]).to_numpy()
        differ = pd.Series([not (a == b or (a and b and (a in b or b in a))) for a, b in zip(booked, holder, strict=True)],
                           index=pay.index)
        pay = pay[differ & ~is_org(pay["bank_name"])]
        if pay.empty:
            return []
        pay = pay[~_same_household(data, pay)]
        if pay.empty:
            return []
        pay = pay.assign(official=data.official_of(pay["village_code"], pay["bank_name"], pay["counterparty_account"]))
        leads = []
        for (village, acct), g in pay.groupby(["village_code", "counterparty_account"], sort=True):
            g = g.sort_values(["entry_date", "entry_id"])
            total = float(g["debit"].sum())
            label = g["official"].dropna()
            if total < self.params.min_amount and not len(label):
                continue
            holder_name = g["bank_name"].iat[0]
            names = sorted(set(g["counterparty"]))
            shown = "；".join(f"{ymd(r.entry_date)} {r.voucher_no} 号凭证付 {r.counterparty} {wan(r.debit)}（{r.summary or ''}）"
                             for r in g.head(self.params.max_rows).itertuples())
            more = f"；另有 {len(g) - self.params.max_rows} 笔" if len(g) > self.params.max_rows else ""
            link = f"该账户户名 {holder_name} 为{label.iat[0]}。" if len(label) else ""
            score = 0.55 + 0.05 * min(4, len(names) - 1) + (0.25 if len(label) else 0.0)
            leads.append(self.lead(
                village_code=village, score=round(min(0.95, score), 4), amount_at_risk=total,
                title=f"收款人不符疑点：账簿记载付给 {'、'.join(names[:3])}{'等' if len(names) > 3 else ''}，"
                      f"银行实际转入 {holder_name} 的账户",
                explanation=(f"账簿记载的 {len(g)} 笔付款（合计 {wan(total)}）收款人为 {'、'.join(names)}，而与之对应的银行流水"
                             f"显示款项转入账户 {acct}，户名 {holder_name}: {shown}{more}。{link}记账收款人与实际收款账户户名不一致，"
                             "可能是冒名领取、虚列人员或由他人代领，建议向记载的收款人核实是否本人提供劳务并收到款项；"
                             "若为经书面委托的代收，或户名为收款单位负责人，可据委托书或工商登记排除。"),
                evidence=[("ledger", e) for e in g["entry_id"]] + [("bank", t) for t in g["bank_txn"].dropna().unique()],
                key=("payee_mismatch", str(acct)),
                details=dict(account=acct, holder=holder_name, booked=names, official=bool(len(label)))))
        return leads


def _same_household(data: DetectorInput, pay: pd.DataFrame) -> pd.Series:
    """Whether the account holder is of the booked payee's household: the payee's household (by ID, else by a name
    unique in the village) has a member of the holder's name."""
    if not data.has("residents"):
        return pd.Series(False, index=pay.index)
    r = data["residents"]
    r = r[r["household_id"].notna()]
    house_of_pid = r.drop_duplicates("person_id").set_index("person_id")["household_id"]
    g = r.groupby(["village_code", "name"])["household_id"]
    named = g.first()[g.nunique() == 1]
    members = set(zip(r["household_id"], r["name"], strict=True))
    by_pid = pay["counterparty_id"].map(house_of_pid)
    by_name = pd.Series(named.reindex(pd.MultiIndex.from_arrays([pay["village_code"], pay["counterparty"]])).to_numpy(),
                        index=pay.index)
    house = by_pid.astype("object").where(by_pid.notna(), by_name.astype("object"))
    return pd.Series([(h, holder) in members for h, holder in zip(house, pay["bank_name"], strict=True)],
                     index=pay.index, dtype=bool)
