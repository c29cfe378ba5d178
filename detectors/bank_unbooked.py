"""账外收支: money that moved through a village's bank account with no line in its books."""

from __future__ import annotations

from pydantic import Field

from sanzi_audit.detectors.examples import Example, bank_row, bank_year

from .base import Detector, DetectorInput, Lead, Params, wan, ymd


class BankUnbookedParams(Params):
    min_amount: float = Field(500.0, ge=0, description="Bank rows below this (元) are left out, unless the "
                              "counterparty is a cadre or close relative")
    fee_max: float = Field(500.0, ge=0, description="Rows whose 摘要 reads as a fee or interest (手续费, 结息) up to "
                           "this amount are left out: books often sum them by quarter or year")
    max_rows: int = Field(20, ge=1, description="Rows listed in one lead's explanation")


class BankUnbooked(Detector):
    name = "bank_unbooked"
    version = "1.0"
    title = "账外收支"
    description = (
        "Matches every row of the village's bank statements to the 银行存款 lines of its books (same direction and "
        "amount, dates within bank.match_window_days; one line for a day's transfers or a month's fees), and flags "
        "the rows left over inside the period the books cover: payments out with no ledger line (账外支出, 公款私存) "
        "and receipts that never reach the books (账外收入, 小金库). Transfers between the village's own accounts and "
        "payments the bank returned (退汇) are left out. Basis: 《农村集体经济组织财务制度》 requires every receipt "
        "and payment to be booked; 账外运行 and 小金库 are the most frequent findings of 三资 audits.")
    requires = ("ledger", "bank")
    uses = ("officials",)
    views = ("bank_match", "official_of")
    Params = BankUnbookedParams

    examples = (
        Example("银行转出 2.6万元 给个人，账上没有这笔",
                {"ledger": bank_year()[0],
                 "bank": bank_year()[1] + [bank_row("X1", "2024-05-10", out=26000.0, name="赵六", account="6228009",
                                                    summary="网银转账", purpose="往来款")]}, leads=1),
        Example("银行短信服务费、转入本村专户、退汇（账上不必逐笔记）",
                {"ledger": bank_year()[0],
                 "bank": bank_year()[1] + [
                     bank_row("F1", "2024-05-11", out=20.0, summary="短信服务费"),
                     bank_row("O1", "2024-07-01", out=50000.0, name="新塘村股份经济合作社", account="202101200000000002"),
                     bank_row("T1", "2024-08-01", out=900.0, name="钱七", account="6228010"),
                     bank_row("T2", "2024-08-02", inn=900.0, name="钱七", account="6228010", summary="退汇",
                              purpose="户名不符")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        m = data.bank_match
        if m is None or m.bank.empty:
            return []
        p = self.params
        ub = m.unbooked
        ub = ub[~(ub["fee"] & (ub["amount"] <= p.fee_max))]
        ub = ub.assign(official=data.official_of(ub["village_code"], ub["counterparty_name"], ub["counterparty_account"]))
        ub = ub[(ub["amount"] >= p.min_amount) | ub["official"].notna()]
        if ub.empty:
            return []
        party = ub["counterparty_account"].astype("object").fillna(ub["counterparty_name"].astype("object"))
        ub = ub.assign(party=party.fillna("（未写对方）"))
        window = data.config.bank.match_window_days
        leads = []
        for (village, direction, party), g in ub.groupby(["village_code", "dir", "party"], sort=True):
            g = g.sort_values(["txn_date", "txn_id"])
            total = float(g["amount"].sum())
            who = g["counterparty_name"].dropna()
            name = who.iat[0] if len(who) else "未写对方户名"
            label = g["official"].dropna()
            link = f"对方为{label.iat[0]}。" if len(label) else ""
            out = direction == "out"
            kind = "账外支出" if out else "账外收入"
            shown = "；".join(f"{ymd(r.txn_date)} {'支出' if out else '收入'} {wan(r.amount)}"
                             f"（{r.summary or ''}{'/' + r.purpose if isinstance(r.purpose, str) else ''}）"
                             for r in g.head(p.max_rows).itertuples())
            more = f"；另有 {len(g) - p.max_rows} 笔" if len(g) > p.max_rows else ""
            score = (0.6 if out else 0.55) + 0.05 * min(3, len(g) - 1) + (0.2 if len(label) else 0.0) \
                + (0.05 if total >= 20_000 else 0.0)
            acct = g["account_no"].iat[0]
            leads.append(self.lead(
                village_code=village, score=round(min(0.95, score), 4), amount_at_risk=total,
                title=f"{kind}疑点：银行流水 {len(g)} 笔{'付给' if out else '收自'} {name} 的款项 {wan(total)} 未见于账簿",
                explanation=(f"本村账户 {acct} 的银行流水中，{'付给' if out else '收自'} {name}"
                             f"（账号 {g['counterparty_account'].dropna().iat[0] if g['counterparty_account'].notna().any() else '未写'}）"
                             f"的 {len(g)} 笔款项合计 {wan(total)}，在账簿的银行存款科目中找不到金额相同、日期相差 {window} 天以内的"
                             f"记录（也不是同日多笔合并或当月手续费合并记账）: {shown}{more}。{link}"
                             + ("资金从集体账户流出却未记账，可能是账外支出或公款私存"
                                if out else "收入进入集体账户却未记账，可能是账外收入或形成小金库")
                             + f"，建议调取银行回单与同期凭证核对；若款项已在其他日期（超过 {window} 天）或以合并金额入账，"
                             "可据凭证排除。"),
                evidence=[("bank", t) for t in g["txn_id"]], key=("unbooked", direction, str(party)),
                details=dict(direction=direction, rows=len(g), counterparty=name, official=bool(len(label)))))
        return leads

