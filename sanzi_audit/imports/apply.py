"""A sheet + the profile that fits it → rows of a contract table, every row numbered as the spreadsheet shows it.

Steps, per sheet:
1. find the header: the row (or pair of rows, 日期 over 月 | 日) in the first 40 that maps the most fields of a
   profile whose match rules it satisfies; the best (priority, fields mapped) over all profiles wins;
2. classify every row below it: data, or layout (blank, repeated header, 小计/本月合计/本年累计, 以下空白,
   signature, section heading) — layout rows are counted, never silently dropped, and a data row is never taken
   for layout unless it lacks every key field of its table;
3. derive the contract's columns from the profile's fields (fill-down, 凭证字号, 科目 "code name_sub", one amount
   with 方向 or a sign, 月/日 with the year from the title, counterparties from 辅助核算 / 核算项目 / sub-account /
   摘要), keeping the export's other columns in ``extra``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..normalize import STR, parse_amount, parse_date, to_halfwidth
from .grid import Sheet
from .profiles import Profile, header_key

HEADER_SCAN_ROWS = 40

KEY_FIELDS = {
    "ledger": ("account_code", "subject"),
    "claims": ("claimant_id", "payee_id", "household_head_id", "bank_account"),
    "contracts": ("contract_no",),
    "residents": ("person_id",),
    "officials": ("cadre_id", "relative_id", "person_id"),
    "bank": ("txn_date", "serial_no"),
    "public_employees": ("person_id",), "vehicles": ("plate_no", "owner_id"), "properties": ("property_id", "owner_id"),
    "businesses": ("uscc",), "business_people": ("uscc", "person_id"), "decisions": ("decision_id",),
    "contract_terms": ("contract_no",),
}

_SUBTOTAL = re.compile(r"^(本月合计|本期合计|本年累计|本期累计|累计|小计|合计|总计|本日合计|本月小计|月计|年计|上期结存|上年结转|"
                       r"期初余额|年初余额|本月结存|结转下月|结转下年|承前页|过次页|承上页|转下页|期末余额)$")
_END = re.compile(r"^(以下空白|以下无数据|以下无内容|此页以下空白|空白)$")
_SIGNATURE = re.compile(r"(制表|审核|会计|负责人|主管|出纳|记账|复核|经办|签字|盖章|填报人|填表人|联系电话|打印时间|打印日期|"
                        r"制表日期|报账员|村书记|村主任|理财小组|监委会)[^:：]{0,8}[:：]")
_SECTION = re.compile(r"^([一二三四五六七八九十]+[、.．\s]|[(（][一二三四五六七八九十]+[)）])")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_YEAR_PLAIN = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_MONTH_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11,
             "十二": 12, "正": 1, "腊": 12}


@dataclass
class HeaderChoice:
    profile: Profile
    rows: tuple[int, ...]  # indices into sheet.rows (one, or two for a two-level header)
    columns: dict[int, str]  # column index → field
    headers: list[str]  # header text per column (two levels joined by /)
    ignored: list[str]  # header texts that map to no field (kept in extra)
    duplicates: list[str]  # header texts whose field an earlier column already took


def _key(cell: str) -> str:
    return header_key(cell) if cell else ""


def _map(keys: list[str], aliases: dict[str, str]) -> tuple[dict[int, str], list[int], list[int]]:
    cols: dict[int, str] = {}
    taken: set[str] = set()
    ignored, dups = [], []
    for i, k in enumerate(keys):
        if not k:
            continue
        f = aliases.get(k)
        if f is None:
            ignored.append(i)
        elif f in taken:
            dups.append(i)
        else:
            cols[i] = f
            taken.add(f)
    return cols, ignored, dups


def _satisfies(profile: Profile, fields: set[str]) -> bool:
    m = profile.match
    return all(f in fields for f in m.headers) and all(any(f in fields for f in g) for g in m.any_headers)


def _two_level_keys(top: list[str], bottom: list[str], aliases: dict[str, str]) -> tuple[list[str], list[str]]:
    width = max(len(top), len(bottom))
    top = top + [""] * (width - len(top))
    bottom = bottom + [""] * (width - len(bottom))
    keys, texts = [], []
    parent = ""
    for t, b in zip(top, bottom, strict=True):
        if t.strip():
            parent = t
        elif not b.strip():
            parent = ""
        pk, bk = _key(parent), _key(b)
        core = pk.removesuffix("信息").removesuffix("情况")
        choice = ""
        for cand in ((core + bk) if bk else "", bk, pk if not bk or not t.strip() or t == parent else ""):
            if cand and cand in aliases:
                choice = cand
                break
        if not choice:
            choice = bk or _key(t)
        keys.append(choice)
        texts.append(f"{parent}/{b}".strip("/") if b.strip() and parent.strip() and parent != b else (b or t))
    return keys, texts


def choose_header(sheet: Sheet, profiles: list[Profile]) -> tuple[HeaderChoice | None, list[str]]:
    """The best (profile, header rows) for a sheet, and what was tried (for the report of a file that fits none)."""
    rows = sheet.rows
    tried: list[str] = []
    best: tuple[tuple, HeaderChoice] | None = None
    scan = [[str(c) if c is not None else "" for c in r] for r in rows[:HEADER_SCAN_ROWS]]
    keyed = [[_key(c) for c in r] for r in scan]
    for p in profiles:
        if any(re.search(rx, sheet.name) for rx in p.skip_sheets):
            continue
        bonus = 5 if p.match.sheet and re.search(p.match.sheet, sheet.name) else 0
        if p.positional:
            first = scan[0][0].strip() if scan and scan[0] else ""
            if p.match.first_line and re.search(p.match.first_line, first):
                cols = {i: f for i, f in enumerate(p.positional) if f}
                choice = HeaderChoice(p, (0,), cols, [f or "" for f in p.positional], [], [])
                score = (p.priority + bonus + 100, len(cols), 0)
                if best is None or score > best[0]:
                    best = (score, choice)
            continue
        aliases = p.aliases()
        p_best: tuple[tuple, HeaderChoice] | None = None
        hits = [sum(1 for k in row if k in aliases) for row in keyed]
        for r in range(len(scan)):
            if not hits[r]:
                continue
            options: list[tuple[tuple[int, ...], list[str], list[str]]] = [((r,), keyed[r], scan[r])]
            if r + 1 < len(scan) and hits[r + 1]:  # a two-level header maps fields on both of its rows
                k2, t2 = _two_level_keys(scan[r], scan[r + 1], aliases)
                options.append(((r, r + 1), k2, t2))
            for idx, keys, texts in options:
                cols, ignored, dups = _map(keys, aliases)
                if not _satisfies(p, set(cols.values())):
                    continue
                # more fields first; a single row beats two rows that map no more; an earlier row beats a later one
                score = (len(cols), -len(idx), -r)
                if p_best is None or score > p_best[0]:
                    p_best = (score, HeaderChoice(p, idx, cols, texts, [texts[i] for i in ignored],
                                                  [texts[i] for i in dups]))
        if p_best is None:
            tried.append(f"{p.name}（{p.title}）: 未找到所需表头 {'、'.join(p.match.headers) or '-'}")
            continue
        # the profile that explains more of the header wins; equal coverage goes to the more specific family
        choice = p_best[1]
        named = sum(1 for t in choice.headers if str(t).strip())
        coverage = round(len(choice.columns) / max(1, named), 2)
        score = (coverage, p.priority + bonus, *p_best[0])
        if best is None or score > best[0]:
            best = (score, choice)
    return (best[1] if best else None), tried


def title_text(sheet: Sheet, header: HeaderChoice) -> str:
    first = header.rows[0]
    if header.profile.positional:
        return ""
    return " ".join(str(c).strip() for r in sheet.rows[:first] for c in r if str(c).strip())


def _is_label(cell: str) -> bool:
    """A 小计/合计/以下空白 label, wherever it stands (a merged cell may put it in the key column)."""
    t = re.sub(r"\s+", "", to_halfwidth(cell))
    return bool(_SUBTOTAL.match(t) or _END.match(t))


def _texts(row: list[str]) -> list[str]:
    return [re.sub(r"\s+", "", to_halfwidth(str(c))) for c in row]


def classify(sheet: Sheet, header: HeaderChoice) -> tuple[list[int], list[tuple[int, str, str]], Counter]:
    """Row indices of data rows; layout rows as (index, kind, label); counts per layout kind (title rows incl.)."""
    rows = sheet.rows
    start = header.rows[-1] + 1
    layout: Counter = Counter()
    broken = {line - sheet.first_row for line, _, _ in sheet.broken}
    for i in range(header.rows[0]):
        layout["blank" if not any(str(c).strip() for c in rows[i]) else "title"] += 1
    layout["header"] += len(header.rows) if not header.profile.positional else 0
    if header.profile.positional:
        layout["title"] += 1  # 填制凭证,V800
    key_cols = [i for i, f in header.columns.items() if f in KEY_FIELDS[header.profile.table]]
    placeholders = set(header.profile.placeholders)
    header_raw = None if header.profile.positional else [str(c).strip() for c in rows[header.rows[-1]]]
    data: list[int] = []
    marks: list[tuple[int, str, str]] = []
    for i in range(start, len(rows)):
        if i in broken:
            continue  # reported by the reader as a broken line
        row = rows[i]
        raw = [c.strip() if isinstance(c, str) else str(c).strip() for c in row]
        nonempty = [c for c in raw if c]
        if not nonempty:
            layout["blank"] += 1
            continue
        if header_raw is not None and raw[:len(header_raw)] == header_raw[:len(raw)]:
            layout["header"] += 1  # the header again (a new page, a new block)
            continue
        if len(nonempty) == 1 and _SECTION.match(nonempty[0]) and not re.search(r"\d{4}", nonempty[0]):
            layout["section"] += 1  # 一、工程类 (a heading, even when it stands in the key column)
            continue
        has_key = any(k < len(raw) and raw[k] and raw[k] not in placeholders and not _SIGNATURE.search(raw[k])
                      and not _is_label(raw[k]) for k in key_cols)
        if not has_key:  # only rows without a key field can be layout: a data row is never dropped as one
            cells = _texts(row)
            label = next((c for c in cells if c and (_SUBTOTAL.match(c) or _END.match(c))), None)
            if label:
                kind = "end" if _END.match(label) else "subtotal"
                layout[kind] += 1
                marks.append((i, kind, label))
                continue
            if _SIGNATURE.search("".join(cells)):
                layout["signature"] += 1
                continue
        data.append(i)
    return data, marks, layout


def frame_of(sheet: Sheet, header: HeaderChoice, data: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The data rows as text: one frame of the profile's fields, one of the other (ignored) columns."""
    width = len(header.headers)
    grid = pd.DataFrame([sheet.rows[i] for i in data], dtype=object) if data else pd.DataFrame(dtype=object)
    for c in range(grid.shape[1], width):
        grid[c] = ""
    cols = sorted(header.columns)
    f = pd.DataFrame({header.columns[c]: grid[c].to_numpy() if c in grid else [] for c in cols}, dtype=object)
    other_idx = [c for c in range(width) if c not in header.columns and str(header.headers[c]).strip()]
    other = pd.DataFrame({header.headers[c]: grid[c].to_numpy() if c in grid else [] for c in other_idx},
                         dtype=object)
    # Arrow strings, not Python objects: a county's exports sit in memory until each profile is derived, and a
    # str object costs ~50 bytes more than its text
    for c in f.columns:
        f[c] = f[c].fillna("").astype(STR).str.strip()
        if header.profile.placeholders:
            f[c] = f[c].where(~f[c].isin(header.profile.placeholders), "")
    for c in list(other.columns):
        col = other[c].fillna("").astype(STR).str.strip()
        if header.profile.placeholders:
            col = col.where(~col.isin(header.profile.placeholders), "")
        if (col == "").all():
            other = other.drop(columns=[c])  # an empty column has nothing to keep
        else:
            other[c] = col
    return f, other


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype("str").str.strip() == "")


def fill_down(f: pd.DataFrame, names: list[str], groups: pd.Series) -> None:
    """Fields written only on a voucher's (or a household's) first line, filled down within each sheet."""
    for n in names:
        if n in f:
            f[n] = f[n].where(~_blank(f[n])).groupby(groups.to_numpy()).ffill().fillna("")


def year_hint(*texts: str) -> int | None:
    for t in texts:
        m = _YEAR.search(t or "") or _YEAR_PLAIN.search(t or "")
        if m:
            return int(m.group(1))
    return None


def month_hint(*texts: str) -> int | None:
    for t in texts:
        t = t or ""
        m = re.search(r"第\s*(\d{1,2})\s*期", t) or re.search(r"(?<!\d)(\d{1,2})\s*月(?!\d)", t)
        if m and 1 <= int(m.group(1)) <= 12:
            return int(m.group(1))
        m = re.search(r"(十[一二]|[一二三四五六七八九十正腊])月", t)
        if m:
            return _MONTH_CN[m.group(1)]
    return None


def excel_serial_to_iso(s: pd.Series) -> pd.Series:
    """Excel serial day numbers (an .xls date cell read as a number) → ISO dates; other values unchanged."""
    num = pd.to_numeric(s.where(s.astype("str").str.fullmatch(r"\d{5}(\.\d+)?")), errors="coerce")
    ok = num.between(20000, 80000)
    if not ok.any():
        return s
    iso = (pd.Timestamp("1899-12-30") + pd.to_timedelta(num[ok].astype(float).round(), unit="D")).dt.strftime("%Y-%m-%d")
    out = s.copy()
    out[ok] = iso
    return out


def extra_json(other: pd.DataFrame, more: dict[str, pd.Series] | None, index: pd.Index) -> np.ndarray:
    """Per row, the non-empty values of the columns the contract has no place for, as JSON (None when none)."""
    n = len(index)
    parts = {**{c: pd.Series(other[c].to_numpy(), index=index) for c in other.columns}, **(more or {})}
    if not parts:
        return np.array([None] * n, dtype=object)
    # built column by column with vectorised string operations: json.dumps per row costs a second per 100k rows
    body = pd.Series("", index=index, dtype=object)
    for c, v in parts.items():
        text = v.fillna("").astype("str").str.strip()
        present = text != ""
        if not present.any():
            continue
        enc = text.str.replace("\\", "\\\\", regex=False).str.replace('"', '\\"', regex=False)
        enc = enc.str.replace(r"[\x00-\x1f]", " ", regex=True)
        item = json.dumps(str(c), ensure_ascii=False) + ': "' + enc + '"'
        body = body.where(~present, body.where(body == "", body + ", ") + item)
    out = np.array("{" + body.astype(object) + "}", dtype=object)  # a copy: pandas' arrays are read-only views
    out[body.to_numpy() == ""] = None
    return out


def amounts_float(s: pd.Series) -> np.ndarray:
    val, _ = parse_amount(s.astype("str"))
    return val.to_numpy(dtype=float)


def dates_of(s: pd.Series) -> pd.Series:
    d, _ = parse_date(s.astype("str"))
    return d
