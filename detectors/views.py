"""The shared views detectors read, declared like the contract's tables: name, what it is, its key and its order.

They are computed once per run on DetectorInput (``data.payments``, ``data.vouchers`` …). A detector names the views
it reads in ``Detector.views``; ``testing.check_detector`` records what it really reads and fails on an undeclared
view or table, and checks that every frame view keeps its declared key unique and its rows in the declared order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class View:
    name: str
    kind: str  # frame / series (aligned with a frame) / mapping / object / method
    doc: str
    columns: tuple[str, ...] = ()  # columns a frame view always has
    key: tuple[str, ...] = ()  # unique per row
    order: tuple[str, ...] = ()  # rows sorted by these
    reads: tuple[str, ...] = ()  # tables it is built from


VIEWS: dict[str, View] = {v.name: v for v in (
    View("roles", "series", "Each ledger line's account role (chart.roles), aligned with the ledger", reads=("ledger",)),
    View("payments", "frame", "Ledger debit lines that pay a named payee, with role, level1 and, with a bank statement, "
         "the bank row and holder", columns=("entry_id", "village_code", "voucher_no", "entry_date", "account_code",
                                             "debit", "counterparty", "counterparty_id", "counterparty_account", "role",
                                             "level1"),
         key=("entry_id",), order=("village_code", "entry_date", "entry_id"), reads=("ledger",)),
    View("vouchers", "frame", "One row per numbered voucher: first line, date, summary, debit total, number parts",
         columns=("village_code", "voucher_no", "entry_id", "entry_date", "prefix", "num", "amount"),
         key=("village_code", "voucher_no"), order=("village_code", "prefix", "num"), reads=("ledger",)),
    View("cash", "frame", "Lines on 库存现金 with what their voucher did with the cash (withdrawal, receipt, deposit, "
         "payment)", columns=("entry_id", "village_code", "voucher_no", "entry_date", "amount", "kind"),
         key=("entry_id",), order=("village_code", "entry_date", "voucher_no"), reads=("ledger",)),
    View("entities", "object", "Resolved payee entity of every payment, contract and claim (entities.EntityIndex), "
         "joined by (source, record id)", reads=("ledger", "contracts", "claims")),
    View("contract_links", "series", "Per payments row: the registered contract it pays, or NA",
         reads=("ledger", "contracts")),
    View("bank_match", "object", "Ledger 银行存款 lines matched to bank statement rows (bank.BankMatch)",
         reads=("ledger", "bank")),
    View("official_accounts", "mapping", "Bank account → the cadres and close relatives it belongs to",
         reads=("officials", "ledger", "claims")),
    View("official_labels", "mapping", "person_id → who they are (党支部书记李四的配偶)", reads=("officials",)),
    View("official_of", "method", "Per row: who a party is among the officials, by ID, account or name",
         reads=("officials",)),
    View("warnings", "frame", "Tonight's failing warning expectations marked lead (pipeline.WARNING_COLUMNS)",
         columns=("table", "check", "village_code", "record_id"),
         order=("table", "check", "village_code")),
)}
