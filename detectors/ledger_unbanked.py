"""虚列支出: a bank payment in the books that the bank statement never shows."""

from __future__ import annotations

from pydantic import Field

from sanzi_audit.detectors.examples import Example, bank_payment, bank_row, bank_year
from sanzi_audit.entities import voucher_lines

from .base import Detector, DetectorInput, Lead, Params, wan, ymd


class LedgerUnbankedParams(Params):
    min_amount: float = Field(500.0, ge=0, description="Ledger bank payments below this (元) are left out")
    grace_days: int = Field(5, ge=0, description="Lines dated this close to either end of the statements' period are "
                            "left out: the bank may have moved the money just outside it")
    max_rows: int = Field(20, ge=1, description="Lines listed in one lead's explanation")


class LedgerUnbanked(Detector):
    name = "ledger_unbanked"
    version = "1.0"
    default_weight = 0.9
    title = "虚列支出"
    description = (
        "Flags payments the books record on 银行存款 that no row of the village's bank statement accounts for "
        "(same amount, dates within bank.match_window_days, or summed with other lines of the voucher or rows of the "
        "day), inside the period the statements cover. A booked payment the bank never made is the mark of 虚列支出 "
        "and 套取资金: the money was taken some other way, or never spent. Basis: 审计署 and 纪委 三资 audits compare "
        "books with bank statements line by line (账实核对); 《农村集体经济组织财务制度》 requires the bank account to "
        "be reconciled every month.")
    requires = ("ledger", "bank")
    views = ("bank_match",)
    Params = LedgerUnbankedParams

    examples = (
        Example("账上 6月18日 从银行付给孙小红 2,400元，银行流水里没有这笔",
                {"ledger": bank_year()[0] + bank_payment("V5", "2024-06-18", 2400.0, "孙小红", pid="330599198001010011"),
                 "bank": bank_year()[1]}, leads=1),
        Example("账上晚 3 天记了银行付款（银行 3月5日，账 3月8日）",
                {"ledger": bank_year()[0] + bank_payment("V1", "2024-03-08", 1200.0, "张三"),
                 "bank": bank_year()[1] + [bank_row("B1", "2024-03-05", out=1200.0, name="张三", account="6228001")]},
                leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        m = data.bank_match
        if m is None or m.lines.empty:
            return []
        p = self.params
        un = m.unbanked(p.grace_days)
        un = un[(un["dir"] == "out") & (un["amount"] >= p.min_amount)]
        if un.empty:
            return []
        vlines = voucher_lines(data["ledger"], un)
        vlines = vlines[vlines["debit"].fillna(0) > 0].groupby(["village_code", "voucher_no"])["entry_id"].agg(list)
        leads = []
        un = un.assign(party=un["party"].astype("object").fillna("（无收款人）"))
        for (village, party), g in un.groupby(["village_code", "party"], sort=True):
            g = g.sort_values(["entry_date", "entry_id"])
            total = float(g["amount"].sum())
            withdrawal = party == "（无收款人）"
            shown = "；".join(f"{ymd(r.entry_date)} {r.voucher_no} 号凭证 {wan(r.amount)}（{r.summary or ''}）"
                             for r in g.head(p.max_rows).itertuples())
            more = f"；另有 {len(g) - p.max_rows} 笔" if len(g) > p.max_rows else ""
            evidence = []
            for r in g.itertuples():
                evidence.append(("ledger", r.entry_id))
                evidence += [("ledger", e) for e in vlines.get((r.village_code, r.voucher_no), []) if e != r.entry_id]
            score = (0.45 if withdrawal else 0.6) + 0.05 * min(3, len(g) - 1) + (0.05 if total >= 10_000 else 0.0)
            who = "提取现金" if withdrawal else f"付给 {party}"
            leads.append(self.lead(
                village_code=village, score=round(min(0.9, score), 4), amount_at_risk=total,
                title=f"虚列支出疑点：账簿记载{who}的银行付款 {len(g)} 笔 {wan(total)}，银行流水中未见",
                explanation=(f"账簿银行存款科目记载{who} {len(g)} 笔、合计 {wan(total)}: {shown}{more}。本村银行流水覆盖"
                             f"这些日期，却没有金额相同、日期相差 {data.config.bank.match_window_days} 天以内的支出（也不是同日多笔"
                             "合并支付）。记账有付款而银行没有划款，可能是虚列支出、套取资金，建议调取银行回单和收款人收款凭据；"
                             "若款项经本村另一银行账户支付（其流水未提供），或记账金额与实付金额不同，可据回单排除。"),
                evidence=list(dict.fromkeys(evidence)), key=("unbanked", str(party)),
                details=dict(lines=len(g), payee=None if withdrawal else party)))
        return leads
