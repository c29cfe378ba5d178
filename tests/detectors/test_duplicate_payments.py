import pytest

from sanzi_audit.detectors.duplicate_payments import DuplicatePayments

from .helpers import V2, data, pay

SHOP = "演示县兴湾建材有限公司"
CASES = [
    ("same invoice in two vouchers", [pay("a", "2024-03-01", 4800, SHOP, "513001", invoice_no="123"),
                                      pay("b", "2024-03-20", 4800, SHOP, "513001", invoice_no="123")], {"a", "b"}),
    ("same invoice across villages", [pay("a", "2024-03-01", 4800, SHOP, "513001", invoice_no="9"),
                                      pay("b", "2024-04-01", 4800, SHOP, "513001", invoice_no="9", village_code=V2)],
     {"a", "b"}),
    ("same payee and amount 3 days apart, no invoice", [pay("a", "2024-03-01", 2300, "张伟", "513004"),
                                                        pay("b", "2024-03-04", 2300, "张伟", "513004")], {"a", "b"}),
    ("monthly fixed fee 30 days apart (honest)", [pay("a", "2024-03-25", 3000, SHOP, "514001", invoice_no="1"),
                                                  pay("b", "2024-04-24", 3000, SHOP, "514001", invoice_no="2")], set()),
    ("close but different amounts (honest)", [pay("a", "2024-03-01", 1618, SHOP, "513001"),
                                              pay("b", "2024-03-05", 1613, SHOP, "513001")], set()),
    ("two lines of one voucher (honest)", [pay("a", "2024-03-01", 500, SHOP, "513001", voucher="v1", invoice_no="7"),
                                           pay("b", "2024-03-01", 500, SHOP, "513003", voucher="v1", invoice_no="7")],
     set()),
    ("salaries of the same amount (honest)", [pay("a", "2024-03-25", 3000, "王刚", "212001"),
                                              pay("b", "2024-03-28", 3000, "王刚", "212001")], set()),
    ("instalments of two different contracts (honest)",
     [pay("a", "2024-03-01", 21630, SHOP, contract_no="H1"), pay("b", "2024-03-03", 21630, SHOP, contract_no="H2")],
     set()),
]


@pytest.mark.parametrize("desc,rows,expected", CASES, ids=[c[0] for c in CASES])
def test_duplicate_cases(desc, rows, expected):
    leads = DuplicatePayments().detect(data(ledger=rows))
    flagged = {r for ld in leads for _, r in ld.evidence}
    assert flagged == expected


def test_spelling_variant_of_the_payee_still_matches():
    rows = [pay("a", "2024-03-01", 4800, SHOP, "513001", counterparty_id="91330599AAAAAAAAA1"),
            pay("b", "2024-03-05", 4800, "兴湾建材有限责任公司", "513001", counterparty_id="91330599AAAAAAAAA1")]
    (ld,) = DuplicatePayments().detect(data(ledger=rows))
    assert "名称写法不一" in ld.explanation and ld.amount_at_risk == 4800
