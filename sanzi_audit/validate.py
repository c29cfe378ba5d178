"""Validate: type the raw frames and split every row into loaded or quarantined, with reasons.

Three steps per table, all reporting reasons in one shape so the quarantine table reads the same:
1. typing: values that cannot be parsed (amounts, numbers, dates) are quarantined with the value quoted;
2. keying: a record id seen earlier in the same file is quarantined (the first row that typed is kept);
3. the table's expectation suite (expectations/<table>.json, run by Great Expectations through
   ``quality.Validator``) over the remaining rows: ``critical`` expectations quarantine the row (reject),
   ``warning`` ones let it load with a data-quality note (warn). Duplicates are out by then, so a repeated
   row does not unbalance its voucher.

Invariant (tested): for every table, rows_read == rows_loaded + rows_quarantined.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .contract import TABLES, Table
from .normalize import STR, clean_code, clean_text, parse_amount, parse_date
from .quality import Validator
from .sources import CHECK, FILE, META, ROW, SEQ, SHEET, RawTable

REJECT = "reject"
WARN = "warn"


@dataclass
class Reason:
    check: str
    column: str | None
    message: str  # Chinese, for the person fixing the source
    severity: str = REJECT
    lead: bool = False  # a warning that also becomes a data-quality lead

    def as_dict(self) -> dict:
        d: dict[str, object] = {"check": self.check, "column": self.column, "message": self.message,
                                "severity": self.severity}
        if self.lead:
            d["lead"] = True
        return d


@dataclass
class Validated:
    table: str
    file: str
    clean: pd.DataFrame  # typed, canonical columns, record id filled, plus _row/_file
    quarantine: list[dict] = field(default_factory=list)  # {table, source_file, source_row, raw, reasons}
    warnings: list[dict] = field(default_factory=list)  # {table, record_id, source_row, reasons}
    rows_read: int = 0
    outcomes: list = field(default_factory=list)  # quality.Outcome per expectation

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
        self.masks: list[tuple[np.ndarray, Reason | pd.Series, str]] = []

    def add(self, mask: pd.Series | np.ndarray, reason: Reason | pd.Series, severity: str | None = None) -> None:
        m = np.asarray(mask, dtype=bool)
        if m.any():
            sev = severity or (reason.severity if isinstance(reason, Reason) else REJECT)
            self.masks.append((m, reason, sev))

    def _mask(self, severity: str) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for m, _, sev in self.masks:
            if sev == severity:
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
        for m, r, _ in self.masks:
            hit = np.flatnonzero(m & pos_set)
            for p in hit:
                reason = r if isinstance(r, Reason) else r.iloc[p]
                out[int(p)].append(reason.as_dict())
        return out


def validate_table(raw: RawTable, validator: Validator) -> Validated:
    table = TABLES[raw.table]
    df = raw.frame.reset_index(drop=True)
    col = _Collector(len(df))
    typed = _typed(table, df, col)

    # 2. keying: a record id seen earlier in the file (among rows that typed) is a duplicate
    typed[table.record_id] = _record_ids(table, typed)
    rid = typed[table.record_id]
    alive = ~col.rejected()
    dup = np.zeros(len(df), dtype=bool)
    dup[alive] = (rid[alive].notna() & typed.loc[alive, list(table.unique_key)].fillna("").duplicated()).to_numpy()
    col.add(dup, _per_row(dup, rid, lambda v, t=table: Reason(
        "duplicate_id", t.record_id, f"记录重复: {t.record_id}={v}（同一文件中已出现，保留第一次出现的行）")))

    # layout checks the reader made (a 本月合计 that does not equal its lines): a warning that becomes a lead
    if CHECK in df and df[CHECK].notna().any():
        bad = df[CHECK].notna().to_numpy()
        col.add(bad, _per_row(bad, df[CHECK], lambda m: Reason("subtotal_mismatch", None, m, WARN, lead=True)), WARN)

    # a bank statement's running balance, row by row in the file's order: a break means a row is missing or altered
    if table.name == "bank":
        broken = balance_breaks(typed, df)
        bad = broken.notna().to_numpy()
        col.add(bad, _per_row(bad, broken, lambda m: Reason("balance_break", "balance", m, WARN, lead=True)), WARN)

    # 3. the expectation suite, over the rows that typed and are not duplicates
    checked = np.flatnonzero(~col.rejected())
    # usually every row typed: then the suite reads ``typed`` itself rather than a copy of it (a gigabyte of ledger
    # at 1,000 villages)
    quality = validator.validate(table.name, typed if len(checked) == len(typed) else typed.iloc[checked])
    for f in quality.failures:
        pos = checked[f.positions]
        mask = np.zeros(len(df), dtype=bool)
        mask[pos] = True
        reasons = pd.Series([None] * len(df), dtype="object")
        severity = REJECT if f.rule.action == "reject" else WARN
        reasons.iloc[pos] = [Reason(f.rule.id, ",".join(f.rule.columns) or None,
                                    f"{f.rule.message}: “{_show(v)}”" if v is not None else f.rule.message,
                                    severity, lead=f.rule.lead) for v in f.values]
        col.add(mask, reasons, severity)

    rejected = col.rejected()
    for m in META:
        typed[m] = df[m].to_numpy() if m in df else None
    files, sheets = typed[FILE], typed[SHEET]
    bad_pos = np.flatnonzero(rejected)
    reasons = col.reasons_for(bad_pos)
    raw_records = df.drop(columns=[m for m in META if m in df]).iloc[bad_pos].to_dict("records")
    quarantine = [dict(table=table.name, source_file=_file_of(raw, files.iat[p]), source_sheet=sheets.iat[p],
                       source_row=int(df[ROW].iat[p]), raw=json.dumps(r, ensure_ascii=False, default=str),
                       reasons=reasons[int(p)])
                  for p, r in zip(bad_pos, raw_records, strict=True)]
    for row_no, fields, why, *where in raw.malformed:
        quarantine.append(dict(table=table.name, source_file=where[0] if where else raw.file, source_sheet=None,
                               source_row=row_no, raw=json.dumps(fields, ensure_ascii=False),
                               reasons=[Reason("malformed_row", None, why).as_dict()]))
    warn_pos = np.flatnonzero(col.warned() & ~rejected)
    wreasons = col.reasons_for(warn_pos)
    amount = _amount(table.name, typed)
    warnings = [dict(table=table.name, record_id=rid.iat[p], village_code=typed["village_code"].iat[p],
                     source_file=_file_of(raw, files.iat[p]), source_sheet=sheets.iat[p],
                     source_row=int(df[ROW].iat[p]), seq=int(typed[SEQ].iat[p]) if SEQ in df else None,
                     amount=float(amount[p]),
                     reasons=[r for r in wreasons[int(p)] if r["severity"] == WARN]) for p in warn_pos]
    clean = typed.loc[~rejected].reset_index(drop=True) if rejected.any() else typed
    return Validated(table.name, raw.file, clean, quarantine, warnings, raw.rows_read, quality.outcomes)


def balance_breaks(typed: pd.DataFrame, df: pd.DataFrame, tolerance: float = 0.005) -> pd.Series:
    """Per row of a bank statement: why its 余额 does not follow from the row before (None where it does).

    Rows are taken in the file's order, per file, sheet and own account. Statements come oldest first or newest
    first; each block is read in the direction in which more rows chain. The first row of a block has nothing to
    follow, and a row without a balance is skipped (its neighbours are compared across it)."""
    out = pd.Series([None] * len(typed), index=typed.index, dtype="object")
    bal = typed["balance"].to_numpy(dtype=float)
    net = (typed["amount_in"].fillna(0.0) - typed["amount_out"].fillna(0.0)).to_numpy(dtype=float)
    keys = [df[FILE].astype("str") if FILE in df else pd.Series("", index=df.index),
            df[SHEET].astype("str") if SHEET in df else pd.Series("", index=df.index),
            typed["account_no"].astype("str")]
    for _, rows in pd.DataFrame({"f": keys[0], "s": keys[1], "a": keys[2]}).groupby(
            ["f", "s", "a"], sort=False, dropna=False).indices.items():
        rows = rows[~np.isnan(bal[rows])]
        if len(rows) < 2:
            continue
        fwd = np.abs(bal[rows[:-1]] + net[rows[1:]] - bal[rows[1:]]) > tolerance  # row i+1 follows row i
        back = np.abs(bal[rows[1:]] + net[rows[:-1]] - bal[rows[:-1]]) > tolerance  # newest first
        if fwd.sum() <= back.sum():
            prev, cur = rows[:-1][fwd], rows[1:][fwd]
        else:
            prev, cur = rows[1:][back], rows[:-1][back]
        for a, b in zip(prev, cur, strict=True):
            want = bal[a] + net[b]
            out.iat[b] = (f"余额不连续: 上一笔余额 {bal[a]:,.2f}，本笔收入 {max(net[b], 0):,.2f}、支出 {max(-net[b], 0):,.2f}，"
                          f"余额应为 {want:,.2f}，流水记为 {bal[b]:,.2f}（差 {bal[b] - want:,.2f}；两笔之间可能缺少流水，"
                          f"或流水被改动）")
    return out


def _file_of(raw: RawTable, row_file) -> str:
    """The file a row came from: its own (a table read from several exports), else the table's file."""
    if row_file is None or (isinstance(row_file, float) and row_file != row_file):
        return raw.file
    return raw.file if Path(raw.file).name == row_file else str(row_file)


def _amount(table: str, typed: pd.DataFrame) -> np.ndarray:
    if table == "ledger":
        return (typed["debit"].fillna(0.0) + typed["credit"].fillna(0.0)).to_numpy(dtype=float)
    if "amount" in typed:
        return typed["amount"].fillna(0.0).to_numpy(dtype=float)
    return np.zeros(len(typed))


def _typed(table: Table, df: pd.DataFrame, col: _Collector) -> pd.DataFrame:
    """1. typing: canonical columns with their types; unparseable values are rejected with the value quoted."""
    typed = pd.DataFrame(index=df.index)
    for c in table.columns:
        if c.name not in df:
            if c.kind == "date":
                typed[c.name] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
            elif c.kind in ("amount", "number"):
                typed[c.name] = pd.Series(np.nan, index=df.index, dtype="float64")
            else:
                typed[c.name] = pd.Series(None, index=df.index, dtype=STR)
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
    return typed


def _show(v) -> str:
    if isinstance(v, list):
        return "、".join(_show(x) for x in v)
    if v is None or v is pd.NaT or (isinstance(v, float) and v != v):
        return "空"
    if isinstance(v, pd.Timestamp | dt.datetime):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


def _per_row(mask, values: pd.Series, make) -> pd.Series:
    """Reasons that quote the offending value, built only for the failing rows."""
    out = pd.Series([None] * len(values), index=values.index, dtype="object")
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    out.iloc[idx] = [make(v) for v in values.iloc[idx]]
    return out


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
    # column by column (a row-wise join cost 90 µs a row: minutes for a county's 一卡通 rolls, which carry no id);
    # the same text as before, so ids stay stable across versions
    parts = [df[c].astype("str").fillna("") for c in cols]
    key = parts[0]
    for p in parts[1:]:
        key = key + "|" + p
    distinct = key.unique()
    ids = {k: "D" + hashlib.sha1(k.encode("utf-8")).hexdigest()[:16] for k in distinct}
    return key.map(ids)
