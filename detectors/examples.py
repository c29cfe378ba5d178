"""Worked examples a detector carries with its class: a small hand-written input and how many leads it must give.

A positive example shows the pattern the rule flags; a negative one shows the honest look-alike it must leave
alone. ``testing.check_detector`` runs every example, and ``sanzi detectors --examples`` shows them, so what a
rule does is stated once, in its own file, and cannot drift from what it does.

Rows are written as plain dicts; columns left out are empty. The helpers below fill the columns every row of a
table needs (village, ids, voucher) so an example states only what matters to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

V = "330599101200"  # an example village (330599 is no real county)
V2 = "330599101201"


@dataclass(frozen=True)
class Example:
    label: str  # what the example shows, in Chinese: shown by `sanzi detectors --examples`
    tables: dict[str, list[dict[str, Any]]]
    leads: int  # how many leads the detector must give (0: a look-alike it leaves alone)
    params: dict[str, Any] = field(default_factory=dict)  # parameter overrides for this example
    # rows of the validation's warnings view (pipeline.WARNING_COLUMNS), for detectors that read it
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def positive(self) -> bool:
        return self.leads > 0


def pay(eid: str, date: str, amount: float, payee: str | None, account: str = "153001", voucher: str | None = None,
        **kw) -> dict[str, Any]:
    """A ledger debit line paying ``payee`` (the credit side does not matter to the payment rules)."""
    return dict(entry_id=eid, village_code=kw.pop("village_code", V), voucher_no=voucher or eid, line_no="1",
                entry_date=date, account_code=account, debit=amount, credit=0.0, counterparty=payee,
                summary=kw.pop("summary", "付款"), **kw)


def receipt(eid: str, date: str, amount: float, payer: str | None, account: str = "102", **kw) -> dict[str, Any]:
    """A ledger credit line (income, or money in)."""
    return dict(entry_id=eid, village_code=kw.pop("village_code", V), voucher_no=kw.pop("voucher_no", eid),
                line_no=kw.pop("line_no", "1"), entry_date=date, account_code=account, debit=0.0, credit=amount,
                counterparty=payer, summary=kw.pop("summary", "收款"), **kw)


def contract(no: str, date: str, amount: float, vendor: str, title: str = "3组道路硬化工程", **kw) -> dict[str, Any]:
    return dict(contract_no=no, village_code=kw.pop("village_code", V), sign_date=date, amount=amount, vendor=vendor,
                title=title, category=kw.pop("category", "工程"), **kw)


def resident(pid: str, name: str, **kw) -> dict[str, Any]:
    return dict(person_id=pid, village_code=kw.pop("village_code", V), name=name, household_id=kw.pop("household_id", "H1"),
                status=kw.pop("status", "在册"), **kw)


def claim(cid: str, pid: str, name: str, date: str, amount: float, program: str = "耕地地力保护补贴",
          **kw) -> dict[str, Any]:
    return dict(claim_id=cid, village_code=kw.pop("village_code", V), claimant_id=pid, claimant_name=name,
                program=program, pay_date=date, amount=amount, **kw)


def official_row(pid: str, name: str, role: str | None = "党支部书记", related_to: str | None = None, relation: str | None = None,
             **kw) -> dict[str, Any]:
    return dict(person_id=pid, village_code=kw.pop("village_code", V), name=name, role=role, related_to=related_to,
                relation=relation, **kw)


def cash_voucher(no: str, date: str, kind: str, amount: float, summary: str | None = None) -> list[dict[str, Any]]:
    """Both lines of a cash voucher: ``withdraw`` (bank → cash), ``deposit`` (cash → bank), ``receive`` (income
    taken in cash) or ``pay`` (an expense paid in cash). Flatten several with ``[ln for v in (...) for ln in v]``."""
    other = {"withdraw": "102001", "deposit": "102001", "receive": "501002", "pay": "513001"}[kind]
    into_cash = kind in ("withdraw", "receive")
    cash = dict(account_code="101001", debit=amount if into_cash else 0.0, credit=0.0 if into_cash else amount)
    opp = dict(account_code=other, debit=0.0 if into_cash else amount, credit=amount if into_cash else 0.0)
    return [dict(entry_id=f"{no}-{i}", village_code=V, voucher_no=no, line_no=str(i), entry_date=date,
                 summary=summary or kind, settlement="现金", counterparty="某人" if kind == "pay" else None, **ln)
            for i, ln in enumerate((cash, opp) if kind != "pay" else (opp, cash), start=1)]


def book(*vouchers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines of several vouchers, in order."""
    return [ln for v in vouchers for ln in v]


BANK_ACCOUNT = "201101200000000001"  # the example village's basic account


def bank_row(tid: str, date: str, out: float | None = None, inn: float | None = None, name: str | None = None,
             account: str | None = None, summary: str = "转账支出", purpose: str | None = None) -> dict[str, Any]:
    """A bank statement row of the village's account: money ``out`` or ``inn`` (in), to or from ``name``."""
    return dict(txn_id=tid, village_code=V, account_no=BANK_ACCOUNT, account_name="新塘村股份经济合作社", txn_date=date,
                amount_out=out, amount_in=inn, counterparty_name=name, counterparty_account=account, summary=summary,
                purpose=purpose)


def bank_payment(no: str, date: str, amount: float, payee: str | None = None, expense: str = "213001",
                 pid: str | None = None, summary: str = "支付临时用工劳务费") -> list[dict[str, Any]]:
    """A payment voucher paid from the bank: the expense line and the 银行存款 credit."""
    return [dict(entry_id=f"{no}-1", village_code=V, voucher_no=no, line_no="1", entry_date=date, account_code=expense,
                 debit=amount, credit=0.0, counterparty=payee, counterparty_id=pid, summary=summary),
            dict(entry_id=f"{no}-9", village_code=V, voucher_no=no, line_no="9", entry_date=date,
                 account_code="102001", debit=0.0, credit=amount, summary=summary)]


def bank_receipt(no: str, date: str, amount: float, payer: str, summary: str = "收到租金",
                 **kw) -> list[dict[str, Any]]:
    """Income received into the bank: the 银行存款 debit and the income line (``kw``, e.g. contract_no, on both)."""
    return [dict(entry_id=f"{no}-1", village_code=V, voucher_no=no, line_no="1", entry_date=date,
                 account_code="102001", debit=amount, credit=0.0, counterparty=payer, summary=summary, **kw),
            dict(entry_id=f"{no}-2", village_code=V, voucher_no=no, line_no="2", entry_date=date,
                 account_code="501001", debit=0.0, credit=amount, counterparty=payer, summary=summary, **kw)]


def books_of_2024() -> list[dict[str, Any]]:
    """Books that run through 2024 (bank interest at both ends), so a due date in 2024 can be judged."""
    return [*bank_receipt("R0", "2024-01-02", 50.0, "演示县农村商业银行", summary="收到利息"),
            *bank_receipt("R9", "2024-12-31", 50.0, "演示县农村商业银行", summary="收到利息")]


def bank_year() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(ledger lines, bank rows) of a statement covering 2024, matched in the books at both ends, so every booked
    date of an example lies inside the statement."""
    bank = [bank_row("B0", "2024-01-02", inn=100.0, name="演示县财政局", account="9001"),
            bank_row("B99", "2024-12-30", out=10.0, summary="手续费")]
    books = [*bank_receipt("R0", "2024-01-02", 100.0, "演示县财政局"),
             *bank_payment("V99", "2024-12-31", 10.0, "演示县农村商业银行", summary="支付12月银行手续费")]
    return books, bank


def lease(no: str, sign: str, years: int, rent: float, title: str = "新塘厂房租赁", vendor: str = "张三",
          **kw) -> dict[str, Any]:
    """A lease in the contract register: ``rent`` 元 a year for ``years`` from ``sign`` (or ``start_date``)."""
    return dict(contract_no=no, village_code=kw.pop("village_code", V), title=title,
                category=kw.pop("category", "资产租赁"), vendor=vendor, amount=rent * years, sign_date=sign,
                start_date=kw.pop("start_date", sign), term_years=years, annual_rent=rent, **kw)
