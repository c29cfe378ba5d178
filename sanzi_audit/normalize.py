"""Vectorised normalisation of raw export values: full-width characters, amounts, dates, codes.

Every parser returns the parsed series plus a boolean mask of values that were present but could not be
parsed, so validation can quarantine those rows with a reason instead of silently turning them into NaN.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd

# Full-width ASCII block (！..～) → half-width, plus the ideographic space.
_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
_FULLWIDTH_TABLE = str.maketrans(_FULLWIDTH)


def to_halfwidth(text: str) -> str:
    return text.translate(_FULLWIDTH_TABLE)


def on_distinct(fn: Callable[[pd.Series], pd.Series | tuple[pd.Series, pd.Series]]):
    """Run a per-value normaliser over the distinct values only, then map back.

    Export columns repeat heavily (dates, account codes, names, village codes), and pandas string methods
    are Python loops without pyarrow: this turns a million-row pass into a pass over a few thousand values.
    """

    @functools.wraps(fn)
    def wrapper(s: pd.Series):
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        res = fn(pd.Series(uniques, dtype="object"))
        parts = res if isinstance(res, tuple) else (res,)
        out = []
        for part in parts:
            arr = part.to_numpy()
            taken = np.where(codes >= 0, arr.take(np.clip(codes, 0, None)) if len(arr) else arr, None)
            if part.dtype.kind in "fMb":
                fill = {"f": np.nan, "M": np.datetime64("NaT"), "b": False}[part.dtype.kind]
                taken = np.where(codes >= 0, arr.take(np.clip(codes, 0, None)) if len(arr) else fill, fill)
                out.append(pd.Series(taken.astype(part.dtype), index=s.index))
            else:
                out.append(pd.Series(taken, index=s.index, dtype=part.dtype))
        return tuple(out) if isinstance(res, tuple) else out[0]

    return wrapper


@on_distinct
def clean_text(s: pd.Series) -> pd.Series:
    """Strip, fold full-width ASCII, and turn empty strings into missing values."""
    s = s.astype("str").str.translate(_FULLWIDTH_TABLE).str.strip()
    return s.mask(s.isin(["", "nan", "None", "NaN", "null", "NULL"]))


@on_distinct
def clean_code(s: pd.Series) -> pd.Series:
    """Codes (ids, accounts, voucher numbers): half-width, no inner spaces, upper-case letters.

    A code read from a spreadsheet as a number arrives as '123.0'; the suffix is dropped.
    """
    s = clean_text(s).str.replace(r"\s+", "", regex=True).str.upper()
    return s.str.replace(r"^(\d+)\.0$", r"\1", regex=True)


@on_distinct
def parse_amount(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse '1,234.50', '１２３４．５', '¥1 234', '(12.00)' (negative) into float; return (values, bad_mask)."""
    txt = clean_text(s)
    present = txt.notna()
    t = txt.str.replace(r"[,，\s¥￥元]", "", regex=True)
    neg = t.str.match(r"^\(.*\)$", na=False)
    t = t.str.strip("()")
    val = pd.to_numeric(t, errors="coerce").astype("float64")
    val = val.where(~neg, -val)
    bad = present & (val.isna() | ~np.isfinite(val.fillna(0.0)))
    return val.where(~bad), bad


@on_distinct
def parse_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, 20240305 (time parts ignored); return (dates, bad)."""
    txt = clean_text(s)
    present = txt.notna()
    t = txt.str.split(r"[ T]", n=1, regex=True).str[0]
    t = t.str.replace(r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3", regex=True)
    t = t.str.replace(r"[年月/.]", "-", regex=True).str.replace("日", "", regex=False)
    val = pd.to_datetime(t, format="%Y-%m-%d", errors="coerce")
    bad = present & val.isna()
    return val.astype("datetime64[us]"), bad

