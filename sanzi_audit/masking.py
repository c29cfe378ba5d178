"""Masking of ID and bank-account numbers, by column and by pattern in any text.

One module below every layer that shows data (the review page, the CLI, the Prefect artifacts, Data Docs), so
each masks the same way.
"""

from __future__ import annotations

import re

SENSITIVE_COLUMNS = {"claimant_id", "person_id", "counterparty_id", "vendor_id", "related_to", "bank_account",
                     "counterparty_account", "vendor_account", "payee_id", "household_head_id",
                     # bank statements and the registers of other departments (a plate or a deed names a person)
                     "account_no", "owner_id", "plate_no", "property_id"}


def mask(value) -> str:
    """3301**********1234: keep the first 4 and last 4 characters of an ID or account number."""
    if value is None:
        return ""
    s = str(value)
    if len(s) <= 8:
        return s[:1] + "*" * (len(s) - 1) if s else s
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


# An ID (18 characters, the last a digit or any letter; 15-digit legacy) or an account number (12 to 21 digits),
# written whole or in groups separated by spaces or dashes (6228 4800 1234 5678 901, 330522-19500907-0318).
LONG_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d(?:[ \-\u00a0]?\d){11,20}(?:[ \-]?[A-Za-z])?)(?![0-9A-Za-z])")


# dates are not digits of a number: 2024-02-21 2024-0138号 is a date and a voucher, 2024-03-05 6228… a date and an
# account (the account is masked, the date kept whole)
_DATE = re.compile(r"(?<![\d\-])(?<!\d[ \-\u00a0])(?:19|20)\d{2}-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])(?!\d|-\d)")


def mask_text(text: str | None) -> str:
    """Mask ID and bank-account numbers wherever they stand in free text (titles, explanations, 摘要, notes,
    file names), whatever their length or separators: by pattern, not by column. Dates stay whole."""
    text = text or ""
    dates = _DATE.findall(text)
    if not dates:
        return LONG_NUMBER.sub(lambda m: _mask_group(m.group(1)), text)
    parts = _DATE.split(text)
    out = [LONG_NUMBER.sub(lambda m: _mask_group(m.group(1)), p) for p in parts]
    return "".join(x for pair in zip(out, [*dates, ""], strict=True) for x in pair)


def _mask_group(found: str) -> str:
    digits = re.sub(r"[ \-\u00a0]", "", found)
    return mask(digits)


def mask_value(v):
    """mask_text through a detector's details (评分依据): strings, long integers, lists and dicts."""
    if isinstance(v, str):
        return mask_text(v)
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int) and len(str(abs(v))) >= 12:
        return mask_text(str(v))
    if isinstance(v, list | tuple):
        return [mask_value(x) for x in v]
    if isinstance(v, dict):
        return {k: mask_value(x) for k, x in v.items()}
    return v
