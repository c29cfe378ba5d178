"""Check digits of Chinese identifiers, scalar and vectorised.

- 居民身份证号 (GB 11643-1999): check = "10X98765432"[Σ aᵢ·wᵢ mod 11]
- 统一社会信用代码 (GB 32100-2015): check = 31 − (Σ aᵢ·wᵢ mod 31), 31 → 0, over a 31-character alphabet
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
RIC_CHECK = "10X98765432"

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}


def ric_check_char(first17: str) -> str:
    total = sum(int(d) * int(w) for d, w in zip(first17, RIC_WEIGHTS, strict=True))
    return RIC_CHECK[total % 11]


def is_valid_ric(value: str) -> bool:
    """True for an 18-character 居民身份证号 with a correct check character and a real birth date."""
    v = value.strip().upper()
    if len(v) != 18 or not v[:17].isdigit() or v[17] not in "0123456789X":
        return False
    try:
        dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return ric_check_char(v[:17]) == v[17]


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_VALUE[c] * int(w) for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    v = value.strip().upper()
    if len(v) != 18 or any(c not in _USCC_VALUE for c in v):
        return False
    return uscc_check_char(v[:17]) == v[17]


def ric_valid_mask(ids: pd.Series) -> pd.Series:
    """Vectorised is_valid_ric over a series of cleaned codes (missing → False)."""
    s = ids.fillna("").astype("str").str.upper()
    shape_ok = s.str.fullmatch(r"\d{17}[\dX]").fillna(False).to_numpy(dtype=bool)
    out = np.zeros(len(s), dtype=bool)
    if not shape_ok.any():
        return pd.Series(out, index=ids.index)
    good = s[shape_ok]
    raw = np.frombuffer("".join(good.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
    digits = (raw[:, :17] - ord("0")).astype(np.int64)
    check = np.array(list(RIC_CHECK.encode("ascii")), dtype=np.uint8)[(digits @ RIC_WEIGHTS) % 11]
    births = pd.to_datetime(good.str.slice(6, 14), format="%Y%m%d", errors="coerce")
    out[shape_ok] = (check == raw[:, 17]) & births.notna().to_numpy()
    return pd.Series(out, index=ids.index)



def uscc_valid_mask(codes: pd.Series) -> pd.Series:
    """Vectorised is_valid_uscc over a series of cleaned codes (missing → False)."""
    s = codes.fillna("").astype("str").str.upper()
    shape_ok = s.str.fullmatch(f"[{USCC_ALPHABET}]{{18}}").fillna(False).to_numpy(dtype=bool)
    out = np.zeros(len(s), dtype=bool)
    if shape_ok.any():
        raw = np.frombuffer("".join(s[shape_ok].tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        lookup = np.full(256, -1, dtype=np.int64)
        for i, ch in enumerate(USCC_ALPHABET.encode("ascii")):
            lookup[ch] = i
        values = lookup[raw]
        check = (31 - (values[:, :17] @ USCC_WEIGHTS) % 31) % 31
        out[shape_ok] = check == values[:, 17]
    return pd.Series(out, index=codes.index)
