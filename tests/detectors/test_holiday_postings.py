import datetime as dt

import pytest

from sanzi_audit.detectors.holiday_postings import HolidayPostings
from sanzi_audit.workdays import day_kind

from .helpers import data, pay


def rows(dates, amount=1000.0, handler="张会计"):
    out = []
    for i, d in enumerate(dates):
        r = pay(f"e{i}", d, amount, "某商店", "513001")
        r["handler"] = handler
        out.append(r)
    return out


CASES = [
    ("three payments in the National Day week", ["2024-10-01", "2024-10-03", "2024-10-05"], 1),
    ("three on 调休 working Sundays (honest)", ["2024-02-04", "2024-04-07", "2024-09-29"], 0),
    ("two on holidays: below min_count", ["2024-10-01", "2024-10-02"], 0),
    ("ordinary working days (honest)", ["2024-03-05", "2024-03-06", "2024-03-07"], 0),
    ("three plain Saturdays", ["2024-03-02", "2024-03-09", "2024-03-16"], 1),
]


@pytest.mark.parametrize("desc,dates,n", CASES, ids=[c[0] for c in CASES])
def test_cases(desc, dates, n):
    assert len(HolidayPostings().detect(data(ledger=rows(dates)))) == n


def test_one_large_payment_on_new_years_day_is_enough_and_named():
    (ld,) = HolidayPostings().detect(data(ledger=rows(["2024-01-01"], amount=50000)))
    assert "元旦" in ld.explanation and "张会计" in ld.title and "疑点" in ld.title


def test_handlers_are_counted_apart():
    ledger = rows(["2024-10-01", "2024-10-02"], handler="甲") + rows(["2024-10-03"], handler="乙")
    assert HolidayPostings().detect(data(ledger=ledger)) == []


def test_years_the_calendar_does_not_know_fall_back_to_weekends_and_say_so():
    assert day_kind(dt.date(2031, 1, 4)) == (False, None, False)  # a Saturday
    assert day_kind(dt.date(2031, 1, 6))[0]  # a Monday
    (ld,) = HolidayPostings().detect(data(ledger=rows(["2031-01-04", "2031-01-05", "2031-01-11"])))
    assert "仅按周六、周日判断" in ld.explanation and ld.details["calendar_known"] is False


def _weekday_and_weekend(handler: str, n_week: int, n_weekend: int, start: str = "2024-03-04") -> list[dict]:
    """n_week payments on working days and n_weekend on plain weekends of 2024, for one handler."""
    base = dt.date.fromisoformat(start)
    days, weekends = [], []
    d = base
    while len(days) < n_week or len(weekends) < n_weekend:
        kind = day_kind(d)
        if kind[0] and len(days) < n_week:
            days.append(d)
        elif not kind[0] and not kind[1] and len(weekends) < n_weekend:
            weekends.append(d)
        d += dt.timedelta(days=1)
    out = rows([x.isoformat() for x in days + weekends], handler=handler)
    for i, r in enumerate(out):
        r["entry_id"] = f"{handler}-{i}"
        r["voucher_no"] = f"{handler}{i:04d}"
    return out


def test_a_county_that_books_on_weekends_is_not_flagged_for_it():
    """Every handler books about 30% on weekends: the county's habit, not a lead (it filled the top 100)."""
    ledger = []
    for h in ("甲", "乙", "丙", "丁", "戊", "己"):
        ledger += _weekday_and_weekend(h, 70, 30)
    assert HolidayPostings().detect(data(ledger=ledger)) == []


def test_a_handler_who_stands_out_from_a_weekend_county_is_flagged_and_the_habit_is_stated():
    ledger = []
    for h in ("甲", "乙", "丙", "丁", "戊"):
        ledger += _weekday_and_weekend(h, 70, 30)
    ledger += _weekday_and_weekend("庚", 20, 60)
    (ld,) = HolidayPostings().detect(data(ledger=ledger))
    assert "庚" in ld.title and "全县当年非工作日付款占" in ld.explanation and ld.details["county_share"] > 0.2
