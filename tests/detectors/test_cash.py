"""库存现金超限额 and 坐收坐支 on hand-made cash books (the balance is rebuilt from the 101 lines)."""

import pytest

from sanzi_audit.detectors.cash_balance import CashBalance
from sanzi_audit.detectors.cash_sitting import CashSitting
from sanzi_audit.detectors.examples import book, cash_voucher

from .helpers import data

_n = iter(range(10_000))


def voucher(date, kind, amount, summary=None):
    """Both lines of a cash voucher (examples.cash_voucher), numbered in order."""
    return cash_voucher(f"2024-{next(_n):04d}", date, kind, amount, summary)


BALANCE = [  # default limit 5,000元, min_days 3
    ("30,000 drawn and kept for two months", book(
        voucher("2024-03-01", "withdraw", 30000), voucher("2024-03-05", "pay", 800),
        voucher("2024-05-01", "deposit", 25000)), 1),
    ("a float topped up to 3,000 (honest)", book(
        voucher("2024-03-01", "withdraw", 3000), voucher("2024-03-05", "pay", 900),
        voucher("2024-03-06", "withdraw", 2000)), 0),
    ("above the limit for one day, banked the next (honest)", book(
        voucher("2024-03-01", "receive", 9000), voucher("2024-03-02", "deposit", 9000)), 0),
    ("still above the limit at the end of the data", book(
        voucher("2024-12-01", "withdraw", 20000), voucher("2024-12-20", "pay", 500)), 1),
    ("two separate spells", book(
        voucher("2024-02-01", "withdraw", 12000), voucher("2024-02-20", "deposit", 11000),
        voucher("2024-06-01", "withdraw", 12000), voucher("2024-06-30", "deposit", 11000)), 2),
]


@pytest.mark.parametrize("desc,ledger,n", BALANCE, ids=[c[0] for c in BALANCE])
def test_balance_cases(desc, ledger, n):
    assert len(CashBalance().detect(data(ledger=ledger))) == n


def test_the_balance_lead_names_the_spell_and_its_evidence():
    ledger = book(voucher("2024-03-01", "withdraw", 30000, "提取现金"), voucher("2024-03-05", "pay", 800),
                  voucher("2024-05-01", "deposit", 25000, "现金存入银行"))
    (ld,) = CashBalance().detect(data(ledger=ledger))
    assert ld.details == {"limit": 5000.0, "peak": 30000.0, "days": 61, "ongoing": False}
    assert "2024-03-01" in ld.title and "61 天" in ld.title and "疑点" in ld.title
    assert "提取现金" in ld.explanation and "无期初余额" in ld.explanation
    ids = {e for _, e in ld.evidence}
    assert ledger[0]["entry_id"] in ids and ledger[-2]["entry_id"] in ids  # the inflow and the deposit (cash line)
    assert ld.amount_at_risk == 25000.0


def test_a_county_limit_from_config_applies(tmp_path):
    from sanzi_audit.config import load_config
    from sanzi_audit.detectors.base import DetectorInput
    from sanzi_audit.testing import frame

    ledger = book(voucher("2024-03-01", "withdraw", 8000), voucher("2024-03-20", "deposit", 7000))
    assert len(CashBalance().detect(data(ledger=ledger))) == 1
    county = tmp_path / "county.yaml"
    county.write_text("thresholds:\n  cash_balance_limit: 10000\n", encoding="utf-8")
    assert CashBalance().detect(DetectorInput({"ledger": frame("ledger", ledger)}, load_config(county))) == []


SITTING = [  # deposit_days 3, tolerance 5%, min_spent_share 10% of the receipt
    ("rent taken in cash, spent on labour, the rest banked weeks later", book(
        voucher("2024-04-01", "receive", 20000), voucher("2024-04-01", "pay", 2500), voucher("2024-04-02", "pay", 3000),
        voucher("2024-04-20", "deposit", 14500)), 1),
    ("banked in full the same day (honest)", book(
        voucher("2024-04-01", "receive", 20000), voucher("2024-04-01", "pay", 500),
        voucher("2024-04-01", "deposit", 20000)), 0),
    ("banked in full within three days (honest)", book(
        voucher("2024-04-01", "receive", 20000), voucher("2024-04-02", "pay", 500),
        voucher("2024-04-04", "deposit", 20000)), 0),
    ("cash drawn from the bank and spent is not income (honest)", book(
        voucher("2024-04-01", "withdraw", 3000), voucher("2024-04-02", "pay", 2500)), 0),
    ("small receipt under min_amount", book(
        voucher("2024-04-01", "receive", 600), voucher("2024-04-02", "pay", 500)), 0),
]


@pytest.mark.parametrize("desc,ledger,n", SITTING, ids=[c[0] for c in SITTING])
def test_sitting_cases(desc, ledger, n):
    assert len(CashSitting().detect(data(ledger=ledger))) == n


def test_the_sitting_lead_says_what_was_spent_and_when_it_was_banked():
    ledger = book(voucher("2024-04-01", "receive", 20000, "收到鱼塘承包费"), voucher("2024-04-02", "pay", 3000, "劳务费"),
                  voucher("2024-04-20", "deposit", 17000))
    (ld,) = CashSitting().detect(data(ledger=ledger))
    assert ld.details == {"receipt": 20000.0, "banked": 0.0, "spent": 3000.0, "deposit_days": 3}
    assert "收到鱼塘承包费" in ld.explanation and "劳务费" in ld.explanation and "2024-04-20" in ld.explanation
    assert ld.evidence[0] == ("ledger", ledger[0]["entry_id"]) and ld.amount_at_risk == 3000.0
