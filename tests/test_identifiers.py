import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sanzi_audit.identifiers import (
    is_valid_ric,
    is_valid_uscc,
    ric_check_char,
    ric_valid_mask,
    uscc_valid_mask,
)


def test_domain_examples():
    assert ric_check_char("11010519491231002") == "X"
    assert is_valid_ric("11010519491231002X") and is_valid_ric("11010519491231002x")
    assert not is_valid_ric("110105194912310021")
    assert is_valid_uscc("91350100M000100Y43")
    assert not is_valid_uscc("91350100M000100Y44")


def _independent_check(first17: str) -> str:
    # GB 11643 as written: weights are 2^(18-i) mod 11, check = (12 - sum mod 11) mod 11, 10 → X
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    c = (12 - total % 11) % 11
    return "X" if c == 10 else str(c)


@settings(max_examples=300, deadline=None)
@given(area=st.from_regex(r"[1-6]\d{5}", fullmatch=True),
       birth=st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)), seq=st.integers(0, 999))
def test_ric_check_matches_independent_formulation(area, birth, seq):
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    check = _independent_check(first17)
    assert ric_check_char(first17) == check
    assert is_valid_ric(first17 + check)
    wrong = next(c for c in "0123456789X" if c != check)
    assert not is_valid_ric(first17 + wrong)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.from_regex(r"[0-9X]{18}|\d{15}|[a-z]{3}", fullmatch=True), min_size=1, max_size=30))
def test_vectorised_equals_scalar(ids):
    mask = ric_valid_mask(pd.Series(ids))
    assert mask.tolist() == [is_valid_ric(x) for x in ids]


_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _independent_uscc_check(first17: str) -> str:
    # GB 32100 as written: weight of position i is 3^i mod 31, check = 31 - (sum mod 31), 31 → 0
    total = sum(_USCC.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return _USCC[(31 - total % 31) % 31]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_USCC, min_size=17, max_size=17))
def test_uscc_check_matches_independent_formulation(first17):
    check = _independent_uscc_check(first17)
    assert is_valid_uscc(first17 + check)
    assert not is_valid_uscc(first17 + next(c for c in _USCC if c != check))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet=_USCC, min_size=18, max_size=18),
                          st.from_regex(r"[0-9A-Z]{18}|[IOSVZ]{2}|\d{15}", fullmatch=True)), min_size=1, max_size=30))
def test_uscc_vectorised_equals_scalar(codes):
    assert uscc_valid_mask(pd.Series(codes)).tolist() == [is_valid_uscc(x) for x in codes]
