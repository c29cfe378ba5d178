import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanzi_audit.normalize import clean_code, clean_text, parse_amount, parse_date

AMOUNTS = [
    ("thousand separators", "1,234.50", 1234.5),
    ("full-width digits", "１２３４．５０", 1234.5),
    ("full-width comma", "1，234", 1234.0),
    ("currency sign and 元", "¥1 234元", 1234.0),
    ("accounting negative", "(12.00)", -12.0),
    ("plain negative", "-3", -3.0),
]


@pytest.mark.parametrize("desc,raw,expected", AMOUNTS, ids=[a[0] for a in AMOUNTS])
def test_parse_amount(desc, raw, expected):
    val, bad = parse_amount(pd.Series([raw]))
    assert val.iloc[0] == expected and not bad.iloc[0]


@pytest.mark.parametrize("raw", ["12a", "1.2.3", "inf", "--"])
def test_unparseable_amounts_are_flagged_not_zeroed(raw):
    val, bad = parse_amount(pd.Series([raw]))
    assert bad.iloc[0] and math.isnan(val.iloc[0])


def test_missing_amount_is_not_bad():
    val, bad = parse_amount(pd.Series([None, "", "  "]))
    assert val.isna().all() and not bad.any()


DATES = [("iso", "2024-03-05"), ("slashes", "2024/3/5"), ("chinese", "2024年3月5日"), ("compact", "20240305"),
         ("with time", "2024-03-05 10:22:00"), ("dots", "2024.3.5"), ("full-width", "２０２４－０３－０５")]


@pytest.mark.parametrize("desc,raw", DATES, ids=[d[0] for d in DATES])
def test_parse_date_formats(desc, raw):
    val, bad = parse_date(pd.Series([raw]))
    assert val.iloc[0] == pd.Timestamp("2024-03-05") and not bad.iloc[0]


@pytest.mark.parametrize("raw", ["2024-13-01", "2024-02-30", "yesterday", "2024年"])
def test_bad_dates_are_flagged(raw):
    val, bad = parse_date(pd.Series([raw]))
    assert bad.iloc[0] and pd.isna(val.iloc[0])


def test_codes_and_text():
    assert list(clean_code(pd.Series([" 3301 02x ", "１２３.0", ""]))[:2]) == ["330102X", "123"]
    assert clean_code(pd.Series([""])).isna().all()
    assert clean_text(pd.Series(["  王伟 ", "nan", None])).tolist()[0] == "王伟"
    assert clean_text(pd.Series(["nan", None])).isna().all()


def test_distinct_value_mapping_keeps_order_and_index():
    s = pd.Series(["2024/1/2", None, "2024/1/2", "bad", "20240103"], index=[10, 11, 12, 13, 14])
    val, bad = parse_date(s)
    assert list(val.index) == [10, 11, 12, 13, 14]
    assert val[10] == val[12] == pd.Timestamp("2024-01-02") and val[14] == pd.Timestamp("2024-01-03")
    assert bad.tolist() == [False, False, False, True, False]


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.sampled_from(["", " ", "nan", "NULL", "\u3000张三\u3000", "ＡＢＣ１２３",
                                                             "支付　工程款", "李四", "abc"]),
                                 st.text(alphabet="张 三ＡＢ１\u3000a1.-", max_size=6)), min_size=1, max_size=40),
       n=st.integers(1001, 3000))
def test_cleaning_the_distinct_values_of_a_long_column_gives_what_cleaning_every_row_gives(values, n):
    """Long non-ASCII columns are cleaned once per distinct value (dictionary-encoded): row by row the same result
    as the short path (under 1,000 rows, every row cleaned), for full-width forms, ideographic spaces,
    missing-value words and nulls."""
    from sanzi_audit.normalize import STR

    rows = (values * (n // len(values) + 1))[:n]
    distinct = list(dict.fromkeys(rows))
    assert len(rows) > 1000 and len(distinct) < 1000
    for fn in (clean_text, clean_code):
        short = fn(pd.Series(pd.array(distinct, dtype=STR)))
        expected = pd.Series(pd.array([short.iloc[distinct.index(v)] for v in rows], dtype=STR))
        pd.testing.assert_series_equal(fn(pd.Series(pd.array(rows, dtype=STR))), expected)
