"""Extract: read a source (a folder of CSV/XLSX exports, or a database URL) into raw string frames.

Nothing is typed or dropped here. Every row that reaches the reader gets its file and row number so that
validation can quarantine it with a precise address; rows the reader itself cannot split into fields
(wrong field count) are returned as ``malformed`` rows, never skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .contract import TABLES, Table, header_map
from .imports.grid import UNSPLIT, GridError, decode
from .imports.profiles import header_key

ROW = "_row"  # 1-based row number in the source file as the spreadsheet shows it (title and header rows included)
FILE = "_file"  # the file, relative to the source folder
SHEET = "_sheet"  # the sheet of a workbook (None for CSV and text)
SEQ = "_seq"  # position of the row in the table's extract (unique across files), for fingerprints
CHECK = "_check"  # a layout check the row failed (its 本月合计 does not add up), a data-quality warning
META = (ROW, FILE, SHEET, SEQ, CHECK)

log = logging.getLogger(__name__)


@dataclass
class FileProblem:
    """A whole table could not be read; the message is for the person who fixes the export."""

    table: str
    file: str
    message: str


@dataclass
class RawTable:
    table: str
    file: str
    frame: pd.DataFrame  # canonical column names, all values str or None, plus _row and _file
    # (row, raw fields, reason) or (row, raw fields, reason, file) when the table comes from several files
    malformed: list[tuple] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str | None = None

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.malformed)


@dataclass
class Extract:
    tables: dict[str, RawTable] = field(default_factory=dict)
    problems: list[FileProblem] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # optional tables with no file
    skipped: dict[str, int] = field(default_factory=dict)  # rows outside a township-limited run, per table
    files: list = field(default_factory=list)  # imports.reader.FileReport per file read through a profile

    @property
    def layout(self) -> dict[str, int]:
        """Layout rows (title, header, subtotal …) of the files read through profiles, by kind."""
        out: dict[str, int] = {}
        for rep in self.files:
            for sh in rep.sheets:
                for k, v in sh.layout.items():
                    out[k] = out.get(k, 0) + v
        return out

    def restrict(self, prefixes: list[str] | None = None, start: dt.date | None = None,
                 end: dt.date | None = None) -> Extract:
        """Keep the rows of a township- or period-limited run: village code starting with one of ``prefixes``,
        and for the ledger, claims and bank statements, the entry, payment or transaction date within [start, end].

        Rows outside are counted in ``skipped``, not quarantined: they belong to another run. A row whose village
        or date cannot be read stays, so validation quarantines it with the reason; so does a malformed line.
        """
        from .normalize import clean_code, parse_date

        out = Extract(problems=self.problems, absent=self.absent, files=self.files)
        for name, raw in self.tables.items():
            frame, keep = raw.frame, np.ones(len(raw.frame), dtype=bool)
            if prefixes and "village_code" in frame:
                codes = clean_code(frame["village_code"])
                keep &= (codes.isna() | codes.fillna("").str.startswith(tuple(prefixes))).to_numpy(dtype=bool)
            # registers (contracts, rosters) are not cut by date: a 2023 contract is paid in 2024
            date_col = TABLES[name].date_column if name in ("ledger", "claims", "bank") else None
            if (start or end) and date_col and date_col in frame:
                dates, _ = parse_date(frame[date_col])
                d = dates.to_numpy()
                inside = np.ones(len(d), dtype=bool)
                if start:
                    inside &= d >= np.datetime64(start)
                if end:
                    inside &= d <= np.datetime64(end)
                keep &= inside | dates.isna().to_numpy()
            out.skipped[name] = int((~keep).sum())
            out.tables[name] = RawTable(raw.table, raw.file, frame.loc[keep].reset_index(drop=True),
                                        raw.malformed, raw.ignored_columns, raw.encoding)
        return out


class SourceError(Exception):
    """The source as a whole is unusable (no such folder, unreachable database)."""


def check_source(source: str | Path) -> None:
    """Fail fast, before a run starts, on a source that cannot be one (no such folder, not a URL)."""
    s = str(source)
    if "://" in s:
        return
    path = Path(s)
    if not path.is_dir():
        raise SourceError(f"数据源目录不存在: {path}（应为导出文件所在目录，或数据库 URL）")


def extract(source: str | Path, retries: int = 3, retry_delay: float = 2.0, config=None) -> Extract:
    """Read every contract table of ``source``; a database source retries transient errors per table.

    A folder may hold files in the contract (``ledger.csv`` …, read as before) and any other exports, in
    subfolders and under any names, which are read through the import profiles (``imports/``) and placed in
    villages with the county's directory (``config.region.village_directory``)."""
    check_source(source)
    s = str(source)
    if "://" in s:
        ex = _extract_database(s, retries, retry_delay)
    else:
        ex = _extract_folder(Path(s), config)
    for raw in ex.tables.values():
        raw.frame[SEQ] = np.arange(len(raw.frame), dtype="int64")
        # a line the reader could not split (a stray quote) is quarantined and reading goes on, but the night did
        # not see that row: it is partial, and says where
        broken: dict[str, list[int]] = {}
        for row, _fields, why, *where in raw.malformed:
            if UNSPLIT in why:
                broken.setdefault(where[0] if where else raw.file, []).append(row)
        for f, lines in broken.items():
            shown = "、".join(map(str, lines[:10])) + (f" 等 {len(lines)} 行" if len(lines) > 10 else "")
            ex.problems.append(FileProblem(raw.table, f, f"{Path(f).name}: 第 {shown} 引号未闭合，无法拆分为字段（已隔离，其后"
                                                         f"各行已继续读取）；请修正源文件后重新导出"))
    return ex


# ---- folder of exports ---------------------------------------------------------------------------

def _find_file(folder: Path, table: Table) -> list[Path]:
    found = []
    for stem in (table.name, table.title):
        for ext in (".csv", ".xlsx", ".CSV", ".XLSX", ".xls"):
            p = folder / f"{stem}{ext}"
            if p.exists():
                found.append(p)
    return found


def _extract_folder(folder: Path, config=None) -> Extract:
    from .config import load_config
    from .imports import reader

    out = Extract()
    config = config or load_config()
    try:
        settings = reader.ImportSettings.from_config(config)
    except ValueError as exc:  # a bad directory or profile: nothing can be placed, say so once
        raise SourceError(str(exc)) from exc
    canonical = {t.name: _find_file(folder, t) for t in TABLES.values()}
    exclude = {f for fs in canonical.values() for f in fs}
    if settings.directory is not None:
        exclude.add(Path(settings.directory.source))
    if config.source_file:
        exclude.add(Path(config.source_file))
    parts, reports, other = reader.read_folder(folder, settings, exclude)
    out.files = reports + [reader.FileReport(reader.rel_path(p, folder), skipped=True) for p in other]
    for rep in reports:
        for msg in rep.problems:
            out.problems.append(FileProblem("?", rep.path, f"{rep.path}: {msg}"))
    for table in TABLES.values():
        files = canonical[table.name]
        imported = parts.get(table.name, [])
        if not files and imported:
            out.tables[table.name] = _imported_table(table, imported)
            continue
        if not files:
            if table.optional:
                out.absent.append(table.name)
            else:
                out.problems.append(FileProblem(table.name, str(folder / f"{table.name}.csv"),
                                                f"缺少必需的表 {table.name}（{table.title}）: 未找到 {table.name}.csv 或 "
                                                f"{table.name}.xlsx，也没有可识别为{table.title}的导出文件"))
            continue
        if len(files) > 1:
            out.problems.append(FileProblem(table.name, str(files[0]),
                                            f"表 {table.name} 有多个文件 ({', '.join(f.name for f in files)})，无法确定使用哪一个"))
            continue
        f = files[0]
        try:
            if f.suffix.lower() == ".xls":
                raise _Problem("不支持旧版 .xls 格式，请另存为 .xlsx 或 CSV")
            raw = _read_xlsx(f, table) if f.suffix.lower() == ".xlsx" else _read_csv(f, table)
        except _Problem as exc:
            out.problems.append(FileProblem(table.name, str(f), f"{f.name}: {exc}"))
            continue
        if imported:  # the contract's file plus exports of the same table: one table, every row kept
            merged = _imported_table(table, imported)
            raw.frame[SHEET] = None
            raw.frame[CHECK] = None
            frame = pd.concat([raw.frame, merged.frame], ignore_index=True)
            raw = RawTable(table.name, raw.file, frame, [*raw.malformed, *merged.malformed],
                           raw.ignored_columns + merged.ignored_columns, raw.encoding)
        out.tables[table.name] = raw
    return out


def _imported_table(table: Table, parts: list) -> RawTable:
    from .imports.reader import merge_parts

    frame = merge_parts(parts)
    malformed = [m for p in parts for m in p.malformed]
    ignored = sorted({h for p in parts for h in p.ignored})
    files = sorted({p.frame[FILE].iat[0] for p in parts if len(p.frame)} | {m[3] for m in malformed})
    label = files[0] if len(files) == 1 else f"{len(files)} 个文件"
    return RawTable(table.name, label, frame, malformed, ignored, ",".join(sorted({p.encoding or "" for p in parts})))


class _Problem(Exception):
    pass


def _read_csv(path: Path, table: Table) -> RawTable:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _Problem(f"无法读取文件: {exc.strerror}") from exc
    fast = _read_fast(data, table, path)
    if fast is not None:  # a clean file: read at C speed into Arrow strings (a fraction of the memory)
        return fast
    try:
        text, enc = decode(data)  # the one decoder of the reader (imports.grid): strict, names the bad line
    except GridError as exc:
        raise _Problem(str(exc)) from exc
    if not text.strip():
        raise _Problem("文件为空（没有表头和数据行）")
    from .imports.grid import split_text

    # a stray quote costs its own line only: reading resumes on the next line (see grid.split_text)
    lines, broken = split_text(text, delimiter=",")
    header = lines[0] if lines else []
    if not any(h.strip() for h in header):
        raise _Problem("无法读取表头: 第 1 行为空")
    columns, ignored = _map_header(header, table, path)
    width = len(header)
    rows: list[list[str]] = []
    kept: list[int] = []
    malformed: list[tuple[int, list[str], str]] = [
        (line, [raw], f"CSV 格式错误: {why}；已从下一行继续读取") for line, raw, why in broken]
    broken_lines = {line for line, _, _ in broken}
    for k, fields in enumerate(lines[1:], start=2):
        if k in broken_lines or not fields:
            continue  # a broken line (quarantined above), a blank line, or the continuation of a quoted field
        if len(fields) != width:
            if "".join(fields).strip():
                malformed.append((k, fields, f"字段数为 {len(fields)}，表头有 {width} 列"))
            continue
        if not "".join(fields).strip():
            continue
        rows.append(fields)
        kept.append(k)
    frame = _frame(rows, header, columns, kept, path)
    return RawTable(table.name, str(path), frame, malformed, ignored, enc)


def _read_fast(data: bytes, table: Table, path: Path) -> RawTable | None:
    """A clean file straight into Arrow, in the encodings grid.decode tries and in its order (UTF-8 with or without
    BOM, then GB18030), without decoding the whole file into one Python string (that copy was most of extract's
    memory). Arrow checks the encoding itself; anything unusual returns None and takes the careful reader."""
    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data
    end = body.find(b"\n")
    if end <= 0:
        return None
    for enc in ("utf-8-sig",) if bom else ("utf-8", "gb18030"):
        try:
            first = body[:end + 1].decode(enc.removesuffix("-sig"))
        except UnicodeDecodeError:
            continue
        reader = csv.reader(io.StringIO(first, newline=""))
        try:
            header = next(reader)
        except (StopIteration, csv.Error):
            return None
        if reader.line_num != 1 or not any(h.strip() for h in header):
            return None  # a header across lines, or none: the careful reader says what is wrong
        columns, ignored = _map_header(header, table, path)  # a missing column is reported the same either way
        t = _read_body_arrow(body, 1, len(header), enc.removesuffix("-sig"))
        if t is not None:
            return RawTable(table.name, str(path), _frame_arrow(t, columns, 1, path), [], ignored, enc)
    return None


def _read_body_arrow(body: bytes, header_lines: int, width: int, encoding: str = "utf-8"):
    """The rows after the header as an Arrow table of strings, or None when the file needs the careful reader.

    Only a file where every physical line after the header is exactly one well-formed record qualifies: no line
    breaks inside fields, no blank or all-empty lines, no short or long rows. Then row i is line header_lines+1+i,
    exactly as the careful reader numbers it, and nothing can be lost or shifted.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(width)]
    try:
        t = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=header_lines, block_size=8 << 20,
                                           encoding=encoding),
            # a short or long row raises: the careful reader reports it with its line
            parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
            # large_string is what pandas' Arrow-backed str holds: read as string, every column was cast (0.7 s of
            # a 300-village ledger)
            convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1) - header_lines
    if t.num_rows != lines or t.num_rows == 0:
        return None  # a quoted line break or a trailing blank line: the careful reader numbers those
    # a blank row is blank in every column: look further only at the rows still blank so far (usually none after
    # the first column, so one pass instead of one per column)
    rows = None
    for col in t.columns:
        col = col if rows is None else pc.take(col, rows)
        empty = pc.equal(pc.utf8_trim_whitespace(col), "")
        rows = pc.indices_nonzero(empty) if rows is None else pc.take(rows, pc.indices_nonzero(empty))
        if len(rows) == 0:
            return t
    return None


def _frame_arrow(t, columns: list[str | None], header_lines: int, path: Path) -> pd.DataFrame:
    import pyarrow as pa

    from .normalize import STR

    data = {c: t.column(i).to_pandas(types_mapper={pa.string(): STR, pa.large_string(): STR}.get)
            for i, c in enumerate(columns) if c is not None}
    df = pd.DataFrame(data)
    df[ROW] = pd.array(range(header_lines + 1, header_lines + 1 + t.num_rows), dtype="int64")
    df[FILE] = path.name
    return df


def _read_xlsx(path: Path, table: Table) -> RawTable:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise _Problem(f"无法打开 Excel 文件: {exc}") from exc
    try:
        names = wb.sheetnames
        sheet = next((wb[n] for n in names if n in (table.name, table.title)), None)
        if sheet is None:
            if len(names) > 1:
                raise _Problem(f"工作簿有多个工作表 {names}，请将数据放在名为“{table.title}”或“{table.name}”的工作表中")
            sheet = wb[names[0]]
        it = sheet.iter_rows(values_only=True)
        header_row = next(it, None)
        if header_row is None:
            raise _Problem(f"工作表“{sheet.title}”为空（没有表头和数据行）")
        header = ["" if h is None else str(h) for h in header_row]
        while header and header[-1] == "":
            header.pop()
        columns, ignored = _map_header(header, table, path)
        rows, numbers = [], []
        for i, values in enumerate(it, start=2):
            vals = [_cell(v) for v in values[: len(header)]]
            if all(v == "" for v in vals):
                continue
            vals += [""] * (len(header) - len(vals))
            rows.append(vals)
            numbers.append(i)
    finally:
        wb.close()
    return RawTable(table.name, str(path), _frame(rows, header, columns, numbers, path), [], ignored, "xlsx")


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()[:10]
    return str(v)


_SPACE = re.compile(r"\s+")


def _map_header(header: list[str], table: Table, path: Path) -> tuple[list[str | None], list[str]]:
    """Canonical name per header position (None for ignored columns); refuse missing required columns."""
    aliases = header_map(table)
    mapped: list[str | None] = []
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for h in header:
        key = header_key(h)
        canon = aliases.get(key)
        if canon is None:
            mapped.append(None)
            if key:
                ignored.append(h)
            continue
        if canon in seen:
            raise _Problem(f"列“{h}”与列“{seen[canon]}”都对应字段 {canon}，请删除其中一列")
        seen[canon] = h
        mapped.append(canon)
    missing = [c for c in table.required_columns if c not in seen]
    if missing:
        need = "；".join(f"{c}（可用表头: {c}、{'、'.join(table.column(c).aliases)}）" for c in missing)
        raise _Problem(f"缺少必需的列: {need}。文件中的表头为: {', '.join(header)}")
    return mapped, ignored


def _frame(rows: list[list[str]], header: list[str], columns: list[str | None], numbers: list[int],
           path: Path) -> pd.DataFrame:
    keep = [i for i, c in enumerate(columns) if c is not None]
    transposed = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    data = {columns[i]: transposed[i] for i in keep}
    df = pd.DataFrame(data, dtype=object)  # typed by validation; a str-dtype copy here costs seconds per million rows
    df[ROW] = pd.array(numbers, dtype="int64")
    df[FILE] = path.name
    return df


# ---- database source -----------------------------------------------------------------------------

# Errors worth another try: the connection dropped, the server is restarting, a lock or statement timed out.
TRANSIENT = ("OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError")


def _extract_database(url: str, retries: int = 3, delay: float = 2.0, chunk_rows: int = 200_000) -> Extract:
    """Read each contract table from a database, one table at a time.

    A transient error (see TRANSIENT) is retried ``retries`` times with doubling delays; a table that still
    cannot be read becomes a problem of that table (the run ends partial and says why) and the other tables are
    read as usual. Only an unreachable database fails the whole extract. Rows stream in chunks and become Arrow
    strings, so a large source never sits in memory as Python objects.
    """
    import sqlalchemy as sa

    out = Extract()
    engine = sa.create_engine(url, pool_pre_ping=True)
    try:
        present = _with_retries(lambda: set(sa.inspect(engine).get_table_names()), retries, delay)
        for table in TABLES.values():
            name = next((n for n in (table.name, table.title) if n in present), None)
            where = f"{safe_url(url)}#{name or table.name}"
            if name is None:
                (out.absent.append(table.name) if table.optional else out.problems.append(
                    FileProblem(table.name, where, f"数据库中缺少必需的表 {table.name}（{table.title}）")))
                continue
            try:
                raw = _with_retries(lambda n=name, t=table, w=where: _read_db_table(engine, n, t, w, chunk_rows),
                                    retries, delay)
            except _Problem as exc:
                out.problems.append(FileProblem(table.name, where, f"表 {name}: {exc}"))
                continue
            except sa.exc.SQLAlchemyError as exc:
                detail = getattr(exc, "orig", None) or exc
                out.problems.append(FileProblem(table.name, where, f"表 {name} 读取失败（共尝试 {getattr(exc, 'sanzi_attempts', 1)} 次）: "
                                                f"{exc.__class__.__name__}: {detail}"))
                continue
            out.tables[table.name] = raw
    except sa.exc.SQLAlchemyError as exc:
        detail = getattr(exc, "orig", None) or exc
        raise SourceError(f"无法读取数据库 {safe_url(url)}: {exc.__class__.__name__}: {detail}") from exc
    finally:
        engine.dispose()  # a nightly extract must not leave connections to the source behind
    return out


def _with_retries(fn, retries: int, delay: float):
    import time

    import sqlalchemy as sa

    for attempt in range(retries + 1):
        try:
            return fn()
        except sa.exc.SQLAlchemyError as exc:
            transient = (any(k.__name__ in TRANSIENT for k in type(exc).__mro__)
                         or (isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated))
            if not transient or attempt == retries:
                setattr(exc, "sanzi_attempts", attempt + 1)  # noqa: B010 - the message says how often it tried
                raise
            log.warning("数据库读取出错（第 %d 次），%.0f 秒后重试: %s", attempt + 1, delay * 2 ** attempt, exc)
            time.sleep(delay * 2 ** attempt)


def _read_db_table(engine, name: str, table: Table, where: str, chunk_rows: int) -> RawTable:
    import pyarrow as pa
    import sqlalchemy as sa

    from .normalize import STR

    with engine.connect() as conn:
        cols = [c["name"] for c in sa.inspect(conn).get_columns(name)]
        columns, ignored = _map_header([str(c) for c in cols], table, Path(name))
        keep = [(c, canon) for c, canon in zip(cols, columns, strict=True) if canon is not None]
        quoted = ", ".join(conn.dialect.identifier_preparer.quote(c) for c, _ in keep)
        sql = f"SELECT {quoted} FROM {conn.dialect.identifier_preparer.quote(name)}"
        parts: dict[str, list] = {canon: [] for _, canon in keep}
        n = 0
        for chunk in pd.read_sql_query(sa.text(sql), conn.execution_options(stream_results=True), chunksize=chunk_rows):
            for i, (_, canon) in enumerate(keep):
                parts[canon].append(pa.array(_as_text(chunk.iloc[:, i]), type=pa.string()))
            n += len(chunk)
    frame = pd.DataFrame({canon: pd.Series(pa.chunked_array(arrs, type=pa.string()).to_pandas(
        types_mapper={pa.string(): STR}.get)) if arrs else pd.Series([], dtype=STR) for canon, arrs in parts.items()})
    frame[ROW] = pd.array(range(1, n + 1), dtype="int64")
    frame[FILE] = name
    return RawTable(table.name, where, frame, [], ignored, "db")


def _as_text(s: pd.Series) -> list[str]:
    """Database values as the text an export would carry: dates as 2024-03-05, 12.0 as 12, NULL as empty."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    text = [_cell(v) for v in uniques]
    return ["" if k < 0 else text[k] for k in codes]


def safe_url(url: str) -> str:
    """A URL fit to print: never a password."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
