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
