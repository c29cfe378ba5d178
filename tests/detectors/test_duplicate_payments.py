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


def _monthly(payee="李大伯", amount=800.0, days=None, what="仓库租金"):
    days = days or {m: (27 if m % 2 else 2) for m in range(1, 13)}
    return [pay(f"r{m}", f"2024-{m:02d}-{d:02d}", amount, payee, "513001", summary=f"支付{m}月{what}")
            for m, d in days.items()]


def test_a_monthly_payee_paid_across_a_month_boundary_is_not_a_duplicate():
    """Rent paid on the 27th of one month and the 2nd of the next: 6 days apart, two periods, honest."""
    assert DuplicatePayments().detect(data(ledger=_monthly())) == []


def test_two_payments_inside_one_period_of_a_recurring_payee_are_flagged_however_far_apart():
    rows = _monthly() + [pay("x", "2024-05-19", 800.0, "李大伯", "513001", summary="补付5月仓库租金")]
    (ld,) = DuplicatePayments().detect(data(ledger=rows))
    assert {r for _, r in ld.evidence} == {"r5", "x"} and "同属5月" in ld.explanation


def test_a_reworded_duplicate_without_invoice_is_flagged():
    rows = [pay("a", "2024-06-03", 2380.0, "演示县城东五金店", "121001", summary="购买维修材料"),
            pay("b", "2024-06-07", 2380.0, "演示县城东五金店", "121001", summary="报销维修材料")]
    (ld,) = DuplicatePayments().detect(data(ledger=rows))
    assert "均无发票号" in ld.explanation
