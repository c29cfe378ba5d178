"""往返转账: collective money out to a person and back within weeks (公款私用, 出借)."""

from __future__ import annotations

from pydantic import Field

from sanzi_audit.detectors.examples import Example, bank_row, bank_year
from sanzi_audit.entities import is_org

from .base import Detector, DetectorInput, Lead, Params, wan, ymd


class BankRoundTripParams(Params):
    max_days: int = Field(45, ge=1, description="The money comes back within this many days")
    tolerance: float = Field(0.05, ge=0, le=0.5, description="The sum back may differ from the sum out by this share")
    min_amount: float = Field(5000.0, ge=0, description="Transfers below this (元) are left out")


class BankRoundTrips(Detector):
    name = "bank_round_trips"
    version = "1.0"
    default_weight = 0.9
    title = "往返转账"
    description = (
        "Pairs a transfer from the village's bank account to a person with a transfer back from the same account "
        "(or the same name, where no account is written) of about the same amount within max_days. Collective money "
        "that goes to a person and comes back was used by that person meanwhile: 公款私用 or an undeclared loan, "
        "forbidden (浙江: 集体资金一律不得出借; loans need 四议两公开). A payment the bank returned (退汇) and transfers "
        "between the village's own accounts are left out; a pair the books record as a loan is still shown, at a "
        "lower score.")
    requires = ("ledger", "bank")
    uses = ("officials",)
    views = ("bank_match", "official_of")
    Params = BankRoundTripParams

    examples = (
        Example("转给朱强 6.4万元，7 天后原数转回",
                {"ledger": bank_year()[0],
                 "bank": bank_year()[1] + [
                     bank_row("A1", "2024-06-10", out=64000.0, name="朱强", account="6228100", purpose="借款"),
                     bank_row("A2", "2024-06-17", inn=64000.0, name="朱强", account="6228100", summary="转账收入",
                              purpose="还款")]}, leads=1),
        Example("转给钱七的款次日被银行退回（退汇）",
                {"ledger": bank_year()[0],
                 "bank": bank_year()[1] + [
                     bank_row("R1", "2024-07-01", out=9000.0, name="钱七", account="6228101"),
                     bank_row("R2", "2024-07-02", inn=9000.0, name="钱七", account="6228101", summary="退汇")]},
                leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        m = data.bank_match
        if m is None or m.bank.empty:
            return []
        p = self.params
        b = m.bank[~m.bank["own"] & ~m.bank["reversed"] & (m.bank["amount"] >= p.min_amount)]
        b = b[b["counterparty_name"].notna() & ~is_org(b["counterparty_name"])]
        party = b["counterparty_account"].astype("object").fillna("name:" + b["counterparty_name"].astype("object"))
        b = b.assign(party=party)
        out, back = b[b["dir"] == "out"], b[b["dir"] == "in"]
        if out.empty or back.empty:
            return []
        c = out.merge(back, on=["village_code", "party"], suffixes=("_o", "_i"))
        days = (c["txn_date_i"] - c["txn_date_o"]).dt.days
        close = (c["amount_i"] - c["amount_o"]).abs() <= p.tolerance * c["amount_o"]
        c = c[(days > 0) & (days <= p.max_days) & close].assign(days=days)
        if c.empty:
            return []
        c = c.sort_values(["days", "txn_id_o", "txn_id_i"]).drop_duplicates("txn_id_o").drop_duplicates("txn_id_i")
        booked = set(m.pairs["txn_id"])
        c = c.assign(official=data.official_of(c["village_code"], c["counterparty_name_o"], c["counterparty_account_o"]))
        leads = []
        for r in c.sort_values(["village_code", "txn_id_o"]).itertuples():
            unbooked = r.txn_id_o not in booked and r.txn_id_i not in booked
            score = 0.55 + (0.15 if unbooked else 0.0) + (0.2 if isinstance(r.official, str) else 0.0) \
                + (0.05 if r.amount_o >= 20_000 else 0.0)
            link = f"对方为{r.official}。" if isinstance(r.official, str) else ""
            how = "两笔均未见于账簿" if unbooked else "账簿有记录"
            leads.append(self.lead(
                village_code=r.village_code, score=round(min(0.95, score), 4), amount_at_risk=float(r.amount_o),
                title=f"往返转账疑点：{wan(r.amount_o)} 转给 {r.counterparty_name_o}，{r.days} 天后转回",
                explanation=(f"本村账户 {r.account_no_o} 于 {ymd(r.txn_date_o)} 向 {r.counterparty_name_o}"
                             f"（账号 {r.counterparty_account_o if isinstance(r.counterparty_account_o, str) else '未写'}）转出 "
                             f"{wan(r.amount_o)}（{r.summary_o or ''}），{ymd(r.txn_date_i)} 由同一对方转回 {wan(r.amount_i)}"
                             f"（{r.summary_i or ''}），相隔 {r.days} 天，{how}。{link}集体资金转给个人后又转回，可能是公款私用或"
                             "未经民主决策的出借，建议核实用途和审批；若为错汇后的退回或经村民代表会议同意的借款并已收回，"
                             "可据决议和凭证排除。"),
                evidence=[("bank", r.txn_id_o), ("bank", r.txn_id_i)], key=("round_trip", r.txn_id_o),
                details=dict(days=int(r.days), booked=not unbooked, official=isinstance(r.official, str))))
        return leads
