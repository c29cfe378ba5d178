"""China's working days: statutory holidays and 调休 working weekends as published (chinese-calendar).

Shared by the holiday_postings detector and the synthetic books (which keep honest vouchers on working days).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache


@lru_cache(maxsize=4096)
def day_kind(d: dt.date) -> tuple[bool, str | None, bool]:
    """(working day?, holiday name, calendar known?). Years chinese-calendar does not know fall back to
    Monday–Friday and say so."""
    import chinese_calendar

    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(d)
        return not on_holiday, (name if name else None), True
    except NotImplementedError:
        return d.weekday() < 5, None, False


def is_workday(d: dt.date) -> bool:
    return day_kind(d)[0]
