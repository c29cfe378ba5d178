"""The chart of accounts by date and kind of book: one module maps (code, date, chart) to a role."""

import pandas as pd

from sanzi_audit import chart


def test_codes_change_meaning_across_the_2024_switch():
    codes = pd.Series(["211001", "211001", "212001", "212001", "541001", "513001", "511001", "511001", "154001"])
    dates = pd.Series(pd.to_datetime(["2023-12-31", "2024-01-01", "2023-06-01", "2024-06-01", "2023-03-01",
                                      "2024-03-01", "2023-03-01", "2024-03-01", "2023-05-01"]))
    assert list(chart.roles(codes, dates)) == ["payroll", "payable", "welfare", "payroll", "admin_expense",
                                               "admin_expense", "income_lease", "operating_expense", "construction"]


def test_enterprise_books_are_told_by_their_codes_and_read_in_their_chart():
    ent = pd.Series(["22410053", "10020002", "56020099", "1122", "2241.01".replace(".", "")])
    assert chart.detect(ent) == chart.ENTERPRISE
    assert chart.detect(pd.Series(["101001", "513004", "102001"])) is None
    dates = pd.Series(pd.to_datetime(["2026-06-02"] * len(ent)))
    marks = pd.Series([chart.ENTERPRISE] * len(ent))
    assert list(chart.roles(ent, dates, marks)) == ["payable", "bank", "admin_expense", "receivable", "payable"]
    assert chart.valid_mask(ent, dates, marks).all()
    assert not chart.valid_mask(ent, dates).any()  # read as a village book, the same codes are not accounts


def test_every_role_is_named_and_every_account_has_a_known_role():
    for c in chart.CHARTS.values():
        assert {role for _, role in c.values()} <= set(chart.ROLES)
    assert chart.PAYMENT_ROLES <= set(chart.ROLES) and set(chart.TENDER_CATEGORY) <= set(chart.ROLES)


def test_sub_accounts_widen_by_three_or_four_digits_a_level():
    codes = pd.Series(["151", "151001", "15101", "151010001", "1510", "15A"])
    dates = pd.Series(pd.to_datetime(["2024-05-01"] * len(codes)))
    assert list(chart.valid_mask(codes, dates)) == [True, True, True, True, False, False]
