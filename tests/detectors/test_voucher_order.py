import pytest

from sanzi_audit.detectors.voucher_order import VoucherOrder

from .helpers import V2, V, data


def line(no, date, village=V):
    return dict(entry_id=f"{village}-{no}-1", village_code=village, voucher_no=no, line_no="1", entry_date=date,
                account_code="513001", debit=100.0, credit=0.0, summary="付款")


CASES = [
    ("dates rise with numbers (honest)", [("2024-0001", "2024-03-01"), ("2024-0002", "2024-03-05"),
                                          ("2024-0003", "2024-03-09")], set()),
    ("a few days out of order (honest)", [("2024-0001", "2024-03-10"), ("2024-0002", "2024-03-04"),
                                          ("2024-0003", "2024-03-12")], set()),
    ("numbered in June, dated in April", [("2024-0001", "2024-05-02"), ("2024-0002", "2024-06-10"),
                                          ("2024-0003", "2024-04-15"), ("2024-0004", "2024-06-12")], {"2024-0003"}),
]


@pytest.mark.parametrize("desc,vouchers,expected", CASES, ids=[c[0] for c in CASES])
def test_cases(desc, vouchers, expected):
    leads = VoucherOrder().detect(data(ledger=[line(n, d) for n, d in vouchers]))
    assert {ld.key[-1] for ld in leads} == expected


def test_the_lead_names_the_voucher_ahead_and_villages_are_apart():
    ledger = [line("2024-0001", "2024-06-10"), line("2024-0002", "2024-04-01"),
              line("2024-0001", "2024-03-01", village=V2), line("2024-0002", "2024-03-02", village=V2)]
    (ld,) = VoucherOrder().detect(data(ledger=ledger))
    assert ld.village_code == V and ld.details == {"days_before": 70, "ahead": "2024-0001"}
    assert ("ledger", f"{V}-2024-0001-1") in ld.evidence and "疑点" in ld.title
