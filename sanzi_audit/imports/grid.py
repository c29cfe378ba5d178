"""Any export file → sheets of text cells, each cell numbered as the spreadsheet shows it.

The reader is picked by content, never by extension: village systems save HTML tables and SpreadsheetML as `.xls`,
金蝶/用友 write OLE2 `.xls` that some readers return as empty, and U8 writes `.txt`. Cells come back as text (numbers
as their shortest form, dates as ``YYYY-MM-DD``), so that profiles see the same thing whatever the file format.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


class GridError(Exception):
    """The file cannot be read as a table at all; the message is for the person who sent it."""


@dataclass
class Sheet:
    name: str
    rows: list[list[str]]  # rows[i] is spreadsheet row first_row + i
    first_row: int = 1
    # CSV/TXT only: physical lines that could not be split (an unterminated quote), (line, text, reason)
    broken: list[tuple[int, str, str]] = field(default_factory=list)

    def row_number(self, i: int) -> int:
        return self.first_row + i


@dataclass
class Workbook:
    path: Path
    kind: str  # xlsx, xls, ods, html, spreadsheetml, csv, u8-text
    sheets: list[Sheet]
    encoding: str | None = None


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff(data: bytes) -> str:
    """The format by its first bytes: xlsx/ods (zip), xls (OLE2), html, spreadsheetml, or text."""
    head = data[:4096]
    if head.startswith(b"PK\x03\x04"):
        return "ods" if b"opendocument" in data[:200] else "xlsx"
    if head.startswith(OLE2):
        return "xls"
    probe = _probe_text(head).lstrip("\ufeff \t\r\n").lower()
    if probe.startswith("<?xml") or probe.startswith("<workbook"):
        if "urn:schemas-microsoft-com:office:spreadsheet" in _probe_text(data[:20000]).lower():
            return "spreadsheetml"
        return "html" if "<table" in _probe_text(data[:200000]).lower() else "xml"
    if probe.startswith("<") and re.search(r"<(html|table|meta|head|body|!doctype)", probe[:2000]):
        return "html"
    return "text"


def _probe_text(b: bytes) -> str:
    """The first bytes of a file as text, for sniffing. The cut at 4 KB can split a character: up to three trailing
    bytes are let go (an HTML export whose 4,096th byte fell inside a Chinese character was taken for CSV and read
    as one row of tags). UTF-16 only with its BOM or its NULs: any even number of bytes decodes as UTF-16."""
    for enc in ("utf-8", "gb18030"):
        for cut in range(4):
            try:
                return b[:len(b) - cut].decode(enc)
            except UnicodeDecodeError:
                continue
    if b[:2] in (b"\xff\xfe", b"\xfe\xff") or b.count(b"\x00") > len(b) // 4:
        try:
            return b[:len(b) // 2 * 2].decode("utf-16")
        except UnicodeDecodeError:
            pass
    return b.decode("latin-1")


def read_workbook(path: Path) -> Workbook:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GridError(f"无法读取文件: {exc.strerror}") from exc
    if not data.strip():
        raise GridError("文件为空")
    kind = sniff(data)
    if kind in ("xlsx", "ods", "xls"):
        return _read_calamine(path, data, kind)
    if kind == "html":
        text, enc = decode(data, html=True)
        return Workbook(path, "html", _read_html(text), enc)
    if kind == "spreadsheetml":
        return Workbook(path, "spreadsheetml", _read_spreadsheetml(data))
    if kind == "xml":
        raise GridError("文件是 XML，但不是 Excel 2003 XML (SpreadsheetML) 表格")
    text, enc = decode(data)
    rows, broken = split_text(text)
    first = rows[0][0] if rows and rows[0] else ""
    return Workbook(path, "u8-text" if first.strip().startswith("填制凭证") else "csv",
                    [Sheet(path.stem, rows, 1, broken)], enc)


# ---- spreadsheets (xlsx, xls, ods) through calamine ----------------------------------------------------------

def _read_calamine(path: Path, data: bytes, kind: str) -> Workbook:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for damaged files
        if kind == "xls":
            return _read_xlrd(path, data, exc)
        raise GridError(f"无法打开 Excel 文件（{kind}）: {exc}") from exc
    sheets = []
    try:
        for name in wb.sheet_names:
            try:
                sh = wb.get_sheet_by_name(name)
                rows = sh.to_python(skip_empty_area=False)
            except Exception as exc:
                if kind == "xls":
                    return _read_xlrd(path, data, exc)
                raise GridError(f"工作表“{name}”无法读取: {exc}") from exc
            sheets.append(Sheet(name, [[v if isinstance(v, str) else cell_text(v) for v in r] for r in rows], 1))
    finally:
        wb.close()
    if kind == "xls" and not any(any(c for c in r) for s in sheets for r in s.rows):
        # some 金蝶/用友 .xls come back empty from one reader and full from the other
        alt = _read_xlrd(path, data, None)
        if any(any(c for c in r) for s in alt.sheets for r in s.rows):
            return alt
    return Workbook(path, kind, sheets)


def _read_xlrd(path: Path, data: bytes, first_error: Exception | None) -> Workbook:
    try:
        import xlrd
    except ImportError as exc:  # pragma: no cover - xlrd is a dependency
        raise GridError(f"无法打开 .xls 文件: {first_error}") from exc
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, ignore_workbook_corruption=True)
    except Exception as exc:
        why = first_error or exc
        raise GridError(f"无法打开 .xls 文件（文件可能已损坏，请用 Excel/WPS 打开后另存为 .xlsx）: {why}") from exc
    sheets = []
    for sh in book.sheets():
        rows = []
        for r in range(sh.nrows):
            vals = []
            for c, (v, t) in enumerate(zip(sh.row_values(r), sh.row_types(r), strict=True)):
                if t == xlrd.XL_CELL_DATE:
                    try:
                        v = xlrd.xldate.xldate_as_datetime(v, book.datemode)
                    except Exception:
                        pass
                vals.append(cell_text(v))
                del c
            rows.append(vals)
        sheets.append(Sheet(sh.name, rows, 1))
    return Workbook(path, "xls", sheets)


def cell_text(v: object) -> str:
    """A cell as the text an export would show: 12.0 → 12, dates as 2024-03-05, None → ''."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if v != v:
            return ""
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.isoformat()
    return str(v)


# ---- text (CSV, TSV, U8 外部凭证) ---------------------------------------------------------------------------

def decode(data: bytes, html: bool = False) -> tuple[str, str]:
    """UTF-8 (with or without BOM), UTF-16 with BOM, then GB18030 (a superset of GBK); strict, so mojibake is
    refused with the line of the first bad byte. HTML may name its charset."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:  # UTF-16 decodes almost any bytes: only text free of control characters counts as UTF-16
            text = data.decode("utf-16")
            if not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text):
                return text, "utf-16"
        except UnicodeDecodeError:
            pass
    order = ["utf-8", "gb18030"]
    if html:
        m = re.search(rb"charset=[\"']?([A-Za-z0-9_-]+)", data[:4096])
        if m and m.group(1).lower() in (b"gbk", b"gb2312", b"gb18030"):
            order = ["gb18030", "utf-8"]
    last: UnicodeDecodeError | None = None
    for enc in order:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError as exc:
            last = exc
    assert last is not None
    line = data[: last.start].count(b"\n") + 1
    raise GridError(f"无法识别文件编码（已尝试 UTF-8、GBK/GB18030），第 {line} 行附近有无效字节；请以 UTF-8 或 GBK 编码另存")


def _delimiter(lines: list[str]) -> str:
    best, score = ",", -1
    for d in (",", "\t", ";", "|"):
        counts = [ln.count(d) for ln in lines if ln.strip()]
        if not counts:
            continue
        s = sum(counts) if max(counts) > 0 else 0
        if s > score:
            best, score = d, s
    return best


MAX_QUOTED_LINES = 20  # a quoted field longer than this many lines is taken as a stray quote
UNSPLIT = "引号未闭合"  # in the reason of every line that could not be split: the night that had one is partial


def split_text(text: str, delimiter: str | None = None) -> tuple[list[list[str]], list[tuple[int, str, str]]]:
    """CSV/TSV text → rows (row i is line i+1 when no field holds a line break; blank lines are kept as empty rows
    so numbering stays exact), plus the lines that could not be split.

    An unterminated quote does not swallow the rest of the file: a record whose quotes do not close within
    MAX_QUOTED_LINES lines (or by the end of the file) is returned as a broken line, and reading resumes on the
    next line. Continuation lines of a multi-line field are returned as empty rows, so every later row keeps its
    line number.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    d = delimiter or _delimiter(lines[:50])
    # the usual record width, from the lines that stand alone: a "continuation" line that is itself a whole record
    # of that width means the quote before it was stray, not the start of a field with line breaks
    widths = Counter(len(_split_one(ln, d)) for ln in lines[:2000] if ln.count('"') % 2 == 0 and ln.strip())
    width = widths.most_common(1)[0][0] if widths else 0
    rows: list[list[str]] = []
    broken: list[tuple[int, str, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.count('"') % 2 == 0:
            rows.append(_split_one(line, d))
            i += 1
            continue
        # an odd number of quotes: the record goes on over the next lines until the quotes balance
        j, quotes, whole = i, line.count('"'), False
        while quotes % 2 and j + 1 < len(lines) and j - i < MAX_QUOTED_LINES:
            j += 1
            quotes += lines[j].count('"')
            if quotes % 2 and width > 1 and lines[j].count('"') % 2 == 0 and len(_split_one(lines[j], d)) == width:
                whole = True  # a complete record inside the "field": the opening quote was stray
                break
        if quotes % 2 == 0 and not whole:
            rows.append(_split_one("\n".join(lines[i:j + 1]), d))
            rows.extend([] for _ in range(j - i))  # keep later rows on their own line numbers
            i = j + 1
            continue
        broken.append((i + 1, line, f"{UNSPLIT}（“\"”不成对），此行无法拆分为字段"))
        rows.append([])
        i += 1
    return rows, broken


def _split_one(record: str, d: str) -> list[str]:
    try:
        return next(csv.reader([record], delimiter=d, strict=False)) if record else []
    except (csv.Error, StopIteration):
        return record.split(d)


# ---- HTML tables saved as .xls ----------------------------------------------------------------------------

_TAG = re.compile(r"<(/?)(table|tr|td|th|br)\b([^>]*)>|<!--.*?-->|<[^>]*>", re.I | re.S)
_SPAN = re.compile(r"(colspan|rowspan)\s*=\s*[\"']?(\d+)", re.I)


def _int(v) -> int:
    try:
        return max(1, min(int(v), 1000))
    except (TypeError, ValueError):
        return 1


def _read_html(text: str) -> list[Sheet]:
    """Tables of an HTML page, by a tag scanner (html.parser costs a second per 5,000 rows): cells with their spans,
    nested tables flattened into their own sheets, entities and <br> line breaks resolved."""
    tables: list[list[list[tuple[str, int, int]]]] = []
    stack: list[list[list[tuple[str, int, int]]]] = []
    cell: list[str] | None = None
    span = (1, 1)
    pos = 0
    for m in _TAG.finditer(text):
        if cell is not None and m.start() > pos:
            cell.append(text[pos:m.start()])
        pos = m.end()
        closing, tag = m.group(1), (m.group(2) or "").lower()
        if not tag:
            continue
        if tag == "table":
            if closing:
                if stack:
                    tables.append(stack.pop())
            else:
                stack.append([])
        elif tag == "tr" and not closing and stack:
            stack[-1].append([])
        elif tag in ("td", "th"):
            if not closing and stack:
                if cell is not None:  # an unclosed cell ends where the next one starts
                    stack[-1][-1].append((_cell_text(cell), *span))
                if not stack[-1]:
                    stack[-1].append([])
                attrs = dict((k.lower(), v) for k, v in _SPAN.findall(m.group(3) or ""))
                cell, span = [], (_int(attrs.get("colspan")), _int(attrs.get("rowspan")))
            elif closing and cell is not None and stack:
                stack[-1][-1].append((_cell_text(cell), *span))
                cell = None
        elif tag == "br" and cell is not None:
            cell.append("\n")
    while stack:
        tables.append(stack.pop())
    sheets = []
    for k, t in enumerate(tables, start=1):
        rows = _expand_spans(t)
        if any(any(c for c in r) for r in rows):
            sheets.append(Sheet(f"表{k}", rows, 1))
    if not sheets:
        raise GridError("HTML 文件中没有表格 (<table>)")
    return sheets


def _cell_text(parts: list[str]) -> str:
    return re.sub(r"[ \t\r\f\v]+", " ", html.unescape("".join(parts)).replace("\xa0", " ")).strip()


def _expand_spans(rows: list[list[tuple[str, int, int]]]) -> list[list[str]]:
    """colspan/rowspan as a spreadsheet shows merged cells: the text in the first cell, the others empty."""
    out: list[list[str]] = []
    pending: dict[tuple[int, int], str] = {}
    for r, cells in enumerate(rows):
        row: list[str] = []
        col = 0
        for text, cs, rs in cells:
            while (r, col) in pending:
                row.append(pending.pop((r, col)))
                col += 1
            row.append(text)
            for extra in range(1, cs):
                row.append("")
                del extra
            for dr in range(1, rs):
                for dc in range(cs):
                    pending[(r + dr, col + dc)] = ""
            col += cs
        while (r, col) in pending:
            row.append(pending.pop((r, col)))
            col += 1
        out.append(row)
    return out


# ---- SpreadsheetML (Excel 2003 XML, often saved as .xls by WPS) ------------------------------------------

_SS = "{urn:schemas-microsoft-com:office:spreadsheet}"


def _read_spreadsheetml(data: bytes) -> list[Sheet]:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise GridError(f"Excel 2003 XML 文件格式错误: {exc}") from exc
    sheets: list[Sheet] = []
    for ws in root.iter(f"{_SS}Worksheet"):
        name = ws.get(f"{_SS}Name") or f"Sheet{len(sheets) + 1}"
        rows: list[list[str]] = []
        for table in ws.iter(f"{_SS}Table"):
            for row in table.iter(f"{_SS}Row"):
                idx = row.get(f"{_SS}Index")
                if idx and idx.isdigit():
                    while len(rows) < int(idx) - 1:
                        rows.append([])
                vals: list[str] = []
                for cell in row.iter(f"{_SS}Cell"):
                    ci = cell.get(f"{_SS}Index")
                    if ci and ci.isdigit():
                        while len(vals) < int(ci) - 1:
                            vals.append("")
                    d = cell.find(f"{_SS}Data")
                    text = "".join(d.itertext()) if d is not None else ""
                    if d is not None and d.get(f"{_SS}Type") == "DateTime":
                        text = text[:10] if text[11:19] in ("", "00:00:00") else text.replace("T", " ")[:19]
                    elif d is not None and d.get(f"{_SS}Type") == "Number":
                        try:
                            text = cell_text(float(text))
                        except ValueError:
                            pass
                    vals.append(text)
                    span = cell.get(f"{_SS}MergeAcross")
                    if span and span.isdigit():
                        vals.extend([""] * int(span))
                rows.append(vals)
        sheets.append(Sheet(name, rows, 1))
    if not sheets:
        raise GridError("Excel 2003 XML 文件中没有工作表")
    return sheets
