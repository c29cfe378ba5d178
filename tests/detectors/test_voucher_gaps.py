import pytest

from sanzi_audit.detectors.voucher_gaps import VoucherGaps

from .helpers import V2, V, data


def line(no, date, village=V):
    return dict(entry_id=f"{village}-{no}-1", village_code=village, voucher_no=no, line_no="1", entry_date=date,
                account_code="513001", debit=10.0, credit=0.0)


CASES = [
    ("consecutive numbers (honest)", ["2024-0001", "2024-0002", "2024-0003"], set()),
    ("one number missing", ["2024-0001", "2024-0002", "2024-0004"], {"2024-0002", "2024-0004"}),
    ("a new series each year (honest)", ["2023-0120", "2024-0001", "2024-0002"], set()),
    ("other styles of numbering", ["记-7", "记-8", "记-10"], {"记-8", "记-10"}),
    ("a renumbering jump beyond max_gap (honest)", ["2024-0001", "2024-0500"], set()),
]


@pytest.mark.parametrize("desc,numbers,expected", CASES, ids=[c[0] for c in CASES])
def test_gap_cases(desc, numbers, expected):
    rows = [line(n, "2023-12-20" if n.startswith("2023") else f"2024-03-{i + 1:02d}") for i, n in enumerate(numbers)]
    leads = VoucherGaps().detect(data(ledger=rows))
    assert {r.split("-", 1)[1].rsplit("-", 1)[0] for ld in leads for _, r in ld.evidence} == expected


def test_villages_are_numbered_apart_and_the_missing_numbers_are_named():
    rows = [line("2024-0001", "2024-03-01"), line("2024-0003", "2024-03-02"),
            line("2024-0002", "2024-03-01", village=V2)]
    (ld,) = VoucherGaps().detect(data(ledger=rows))
    assert ld.village_code == V and "2024-0002" in ld.title and ld.details["missing"] == 1
