"""Validate: type the raw frames and split every row into loaded or quarantined, with reasons.

Row checks here are the ones that decide whether a row can be typed and keyed at all (parse failures,
missing required values, malformed village codes, duplicate ids). Rule-level expectations (checksums,
voucher balance, chart of accounts) are layered on top by the Great Expectations stage; both report
reasons in the same shape so the quarantine table reads the same.

Invariant (tested): for every table, rows_read == rows_loaded + rows_quarantined.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .contract import TABLES, Table
from .normalize import clean_code, clean_text, parse_amount, parse_date
from .sources import FILE, ROW, RawTable

REJECT = "reject"
WARN = "warn"


@dataclass
class Reason:
    check: str
    column: str | None
    message: str  # Chinese, for the person fixing the source
    severity: str = REJECT

    def as_dict(self) -> dict:
        return {"check": self.check, "column": self.column, "message": self.message, "severity": self.severity}


@dataclass
class Validated:
    table: str
    file: str
    clean: pd.DataFrame  # typed, canonical columns, record id filled, plus _row/_file
    quarantine: list[dict] = field(default_factory=list)  # {table, source_file, source_row, raw, reasons}
    warnings: list[dict] = field(default_factory=list)  # {table, record_id, source_row, reasons}
    rows_read: int = 0

    @property
    def rows_loaded(self) -> int:
        return len(self.clean)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)


class _Collector:
    """Accumulates per-row reasons as boolean masks, so checks stay vectorised."""

    def __init__(self, n: int):
        self.n = n
        self.masks: list[tuple[np.ndarray, Reason | pd.Series]] = []

    def add(self, mask: pd.Series | np.ndarray, reason: Reason | pd.Series) -> None:
        m = np.asarray(mask, dtype=bool)
        if m.any():
            self.masks.append((m, reason))

    def _mask(self, severity: str) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for m, r in self.masks:
            if _severity(r) == severity:
                out |= m
        return out

    def rejected(self) -> np.ndarray:
        return self._mask(REJECT)

    def warned(self) -> np.ndarray:
        return self._mask(WARN)

    def reasons_for(self, positions: np.ndarray) -> dict[int, list[dict]]:
        out: dict[int, list[dict]] = {int(p): [] for p in positions}
        pos_set = np.zeros(self.n, dtype=bool)
        pos_set[positions] = True
        for m, r in self.masks:
            hit = np.flatnonzero(m & pos_set)
            for p in hit:
                reason = r if isinstance(r, Reason) else r.iloc[p]
                out[int(p)].append(reason.as_dict())
        return out


def _severity(r: Reason | pd.Series) -> str:
    return r.severity if isinstance(r, Reason) else REJECT


def validate_table(raw: RawTable) -> Validated:
    table = TABLES[raw.table]
    df = raw.frame.reset_index(drop=True)
    col = _Collector(len(df))
    typed = pd.DataFrame(index=df.index)
    for c in table.columns:
        if c.name not in df:
            typed[c.name] = pd.Series(np.nan if c.kind in ("amount", "number") else None, index=df.index,
                                      dtype="float64" if c.kind in ("amount", "number") else "object")
            if c.kind == "date":
                typed[c.name] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
            continue
        s = df[c.name]
        if c.kind in ("amount", "number"):
            val, bad = parse_amount(s)
            what = "金额" if c.kind == "amount" else "数值"
            col.add(bad, _per_row(bad, s, lambda v, n=c.name, w=what: Reason("parse_" + n, n, f"{w}无法解析: “{v}”")))
        elif c.kind == "date":
            val, bad = parse_date(s)
            col.add(bad, _per_row(bad, s, lambda v, n=c.name: Reason(
                "parse_" + n, n, f"日期无法解析: “{v}”（可用格式 2024-03-05、2024/3/5、2024年3月5日、20240305）")))
        elif c.kind == "code":
            val = clean_code(s)
        else:
            val = clean_text(s)
        typed[c.name] = val
        if c.required:
            missing = val.isna() & ~(bad if c.kind in ("amount", "number", "date") else False)
            col.add(missing, Reason("required_" + c.name, c.name, f"必填字段 {c.name}（{_alias(table, c.name)}）为空"))

    if "village_code" in typed:
        vc = typed["village_code"]
        bad_vc = vc.notna() & ~vc.fillna("").str.fullmatch(r"\d{12}")
        col.add(bad_vc, _per_row(bad_vc, vc, lambda v: Reason(
            "village_code_format", "village_code", f"村代码应为 12 位统计用区划代码: “{v}”")))

    if table.name == "ledger":
        d, c_ = typed["debit"].fillna(0.0), typed["credit"].fillna(0.0)
        col.add((d == 0) & (c_ == 0), Reason("debit_credit_nonzero", "debit", "借方金额与贷方金额均为空或为零"))
        col.add((d != 0) & (c_ != 0), Reason("debit_xor_credit", "debit", "同一分录借方与贷方均有金额"))

    typed[table.record_id] = _record_ids(table, typed)
    rid = typed[table.record_id]
    key = list(table.unique_key)
    dup = (rid.notna() & typed[key].fillna("").duplicated(keep="first")).to_numpy()
    col.add(dup, _per_row(dup, rid, lambda v, t=table: Reason(
        "duplicate_id", t.record_id, f"记录重复: {t.record_id}={v}（同一文件中已出现，保留第一次出现的行）")))

    rejected = col.rejected()
    typed[ROW] = df[ROW].to_numpy()
    typed[FILE] = df[FILE].to_numpy()
    bad_pos = np.flatnonzero(rejected)
    reasons = col.reasons_for(bad_pos)
    raw_records = df.drop(columns=[ROW, FILE]).iloc[bad_pos].to_dict("records")
    quarantine = [dict(table=table.name, source_file=raw.file, source_row=int(df[ROW].iat[p]),
                       raw=json.dumps(r, ensure_ascii=False, default=str), reasons=reasons[int(p)])
                  for p, r in zip(bad_pos, raw_records, strict=True)]
    for row_no, fields, why in raw.malformed:
        quarantine.append(dict(table=table.name, source_file=raw.file, source_row=row_no,
                               raw=json.dumps(fields, ensure_ascii=False),
                               reasons=[Reason("malformed_row", None, why).as_dict()]))
    warn_pos = np.flatnonzero(col.warned() & ~rejected)
    wreasons = col.reasons_for(warn_pos)
    warnings = [dict(table=table.name, record_id=rid.iat[p], source_row=int(df[ROW].iat[p]),
                     reasons=[r for r in wreasons[int(p)] if r["severity"] == WARN]) for p in warn_pos]
    clean = typed.loc[~rejected].reset_index(drop=True)
    return Validated(table.name, raw.file, clean, quarantine, warnings, raw.rows_read)


def _per_row(mask, values: pd.Series, make) -> pd.Series:
    """Reasons that quote the offending value, built only for the failing rows."""
    out = pd.Series([None] * len(values), index=values.index, dtype="object")
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    out.iloc[idx] = [make(v) for v in values.iloc[idx]]
    return out


def _alias(table: Table, column: str) -> str:
    a = table.column(column).aliases
    return a[0] if a else column


def _record_ids(table: Table, typed: pd.DataFrame) -> pd.Series:
    rid = typed[table.record_id] if table.record_id in typed else pd.Series(None, index=typed.index)
    if not table.derive_id_from:
        return rid
    missing = rid.isna()
    if not missing.any():
        return rid
    return rid.where(~missing, derive_ids(table.name, typed.loc[missing]))


def derive_ids(table: str, df: pd.DataFrame) -> pd.Series:
    """Stable ids for rows that come without one (the same row gets the same id on every reload)."""
    if table == "ledger":
        parts = df[["village_code", "voucher_no"]].astype("str")
        line = df["line_no"].fillna("1").astype("str")
        return parts["village_code"] + "-" + parts["voucher_no"] + "-" + line
    cols = TABLES[table].derive_id_from
    key = df[list(cols)].astype("str").agg("|".join, axis=1)
    return key.map(lambda k: "D" + hashlib.sha1(k.encode("utf-8")).hexdigest()[:16])
