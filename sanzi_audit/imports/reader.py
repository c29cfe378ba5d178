"""A folder of real exports → contract tables, with a report per file that says what was read and why.

Walks the folder (subfolders per township and village, any file names), reads each file (``grid``), picks the
profile and header for each sheet (``apply``), places the file in a village (config pin, a village column, the
title rows, 账套/单位名称, the sheet, the file name, the folders — matched against the county's village directory)
and derives the contract's columns (``derive``). A file that fits no profile, or whose village cannot be told, is
reported by name with what was tried; the other files still load.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Set
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract import TABLES
from ..normalize import to_halfwidth
from .apply import (
    amounts_float,
    choose_header,
    classify,
    frame_of,
    month_hint,
    title_text,
    year_hint,
)
from .derive import DERIVE, Context
from .grid import GridError, Sheet, Workbook, read_workbook
from .profiles import Profile, all_profiles
from .villages import Match, VillageDirectory

TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xls", ".xlsx", ".xlsm", ".ods", ".htm", ".html", ".xml", ".et"}
ROW, FILE, SHEET, CHECK = "_row", "_file", "_sheet", "_check"


@dataclass
class FilePin:
    glob: str
    profile: str | None = None
    village: str | None = None


@dataclass
class ImportSettings:
    profiles: list[Profile]
    directory: VillageDirectory | None = None
    pins: list[FilePin] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    county_code: str | None = None

    @classmethod
    def from_config(cls, config) -> ImportSettings:
        base = Path(config.source_file).parent if getattr(config, "source_file", None) else Path.cwd()
        imp = config.imports
        profiles = all_profiles([(base / p) for p in imp.profiles])
        directory = None
        if config.region.village_directory:
            directory = VillageDirectory.load(base / config.region.village_directory)
        pins = [FilePin(p.glob, p.profile, p.village) for p in imp.files]
        return cls(profiles, directory, pins, list(imp.ignore), config.region.county_code)


@dataclass
class SheetReport:
    sheet: str
    profile: str | None = None
    profile_title: str | None = None
    table: str | None = None
    header_rows: list[int] = field(default_factory=list)  # spreadsheet row numbers
    mapping: dict[str, str] = field(default_factory=dict)  # header text → field
    ignored: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    village_code: str | None = None
    village_name: str | None = None
    village_how: str = ""
    data_rows: int = 0
    layout: dict[str, int] = field(default_factory=dict)
    sample: list[dict] = field(default_factory=list)
    problem: str | None = None
    tried: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class FileReport:
    path: str  # relative to the source folder
    format: str | None = None
    encoding: str | None = None
    sheets: list[SheetReport] = field(default_factory=list)
    problem: str | None = None  # the file as a whole could not be read or placed
    skipped: bool = False  # not a table file (.pdf, .docx …): listed, not read

    @property
    def problems(self) -> list[str]:
        out = [self.problem] if self.problem else []
        out += [f"工作表“{s.sheet}”: {s.problem}" for s in self.sheets if s.problem]
        return out


@dataclass
class ImportedPart:
    table: str
    frame: pd.DataFrame  # contract columns as text, plus _row, _file, _sheet
    malformed: list[tuple[int, list[str], str, str]]  # (row, raw fields, reason, file)
    ignored: list[str]
    encoding: str | None


def rel_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def candidate_files(root: Path, settings: ImportSettings, exclude: Set[Path] = frozenset()) -> tuple[list[Path], list[Path]]:
    """(table files, other files) under root; names starting with . or _ and the ignore globs are left out."""
    files: list[Path] = []
    other: list[Path] = []
    excluded = {p.resolve() for p in exclude}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.startswith((".", "_", "~$")) for part in rel.parts) or not p.is_file():
            continue
        if p.resolve() in excluded or any(fnmatch.fnmatch(rel.as_posix(), g) for g in settings.ignore):
            continue
        (files if p.suffix.lower() in TABLE_SUFFIXES else other).append(p)
    return files, other


def _pin_for(rel: str, settings: ImportSettings) -> FilePin | None:
    for pin in settings.pins:
        if fnmatch.fnmatch(rel, pin.glob) or fnmatch.fnmatch(Path(rel).name, pin.glob):
            return pin
    return None


def _place(sheet: Sheet, parsed_title: str, rel: str, settings: ImportSettings, pin: FilePin | None) -> Match:
    if pin and pin.village:
        v = pin.village.strip()
        if re.fullmatch(r"\d{12}", v):
            name = settings.directory.name_of(v) if settings.directory else None
            return Match(v, name, f"配置 imports.files 指定（{pin.glob}）")
        if settings.directory:
            m = settings.directory.match(v)
            if m.code:
                return Match(m.code, m.name, f"配置 imports.files 指定“{v}”")
        return Match(None, None, f"配置 imports.files 指定的村“{v}”不在村级区划目录中")
    if settings.directory is None:
        return Match(None, None, "未配置村级区划目录 (region.village_directory)")
    path = Path(rel)
    texts = [parsed_title, sheet.name, path.stem, *reversed(path.parent.parts)]
    return settings.directory.match(*texts)


@dataclass
class SheetFields:
    """One sheet read through its profile, not yet derived: the profile's fields as text, the other columns, and
    what the file around it says (village, year, title). Derivation runs once per profile over all such sheets."""

    profile: Profile
    report: SheetReport
    fields: pd.DataFrame
    other: pd.DataFrame
    rows: np.ndarray  # spreadsheet row of each data row
    file: str
    sheet: str | None
    context: dict
    checks: list[tuple[int, int, str]]  # (first, last) data-row positions and the message, for 合计 mismatches
    broken: list[tuple[int, str, str]]


def read_file(path: Path, root: Path, settings: ImportSettings) -> tuple[list[SheetFields], FileReport]:
    rel = rel_path(path, root)
    report = FileReport(rel)
    try:
        wb = read_workbook(path)
    except GridError as exc:
        report.problem = str(exc)
        return [], report
    report.format, report.encoding = wb.kind, wb.encoding
    pin = _pin_for(rel, settings)
    profiles = settings.profiles
    if pin and pin.profile:
        profiles = [p for p in settings.profiles if p.name == pin.profile]
        if not profiles:
            report.problem = (f"配置 imports.files 为 {pin.glob} 指定的导入格式 {pin.profile} 不存在（可用: "
                              f"{', '.join(p.name for p in settings.profiles)}）")
            return [], report
    out: list[SheetFields] = []
    for sheet in wb.sheets:
        sf, sr = _read_sheet(wb, sheet, rel, settings, profiles, pin)
        report.sheets.append(sr)
        if sf is not None:
            out.append(sf)
    if not report.sheets:
        report.problem = "文件中没有工作表"
    elif not out and all(s.problem for s in report.sheets):
        report.problem = "没有可识别的工作表"
    return out, report


def _read_sheet(wb: Workbook, sheet: Sheet, rel: str, settings: ImportSettings, profiles: list[Profile],
                pin: FilePin | None) -> tuple[SheetFields | None, SheetReport]:
    sr = SheetReport(sheet.name)
    if not any(any(str(c).strip() for c in r) for r in sheet.rows):
        sr.notes.append("空工作表")
        return None, sr
    header, tried = choose_header(sheet, profiles)
    if header is None:
        if any(re.search(rx, sheet.name) for p in profiles for rx in p.skip_sheets):
            sr.notes.append("说明性工作表，已跳过")
            return None, sr
        sr.problem = "无法识别表格类型（前 40 行中未找到任何导入格式所需的表头）"
        sr.tried = tried
        return None, sr
    p = header.profile
    sr.profile, sr.profile_title, sr.table = p.name, p.title, p.table
    sr.header_rows = [sheet.row_number(i) for i in header.rows] if not p.positional else []
    sr.mapping = {header.headers[i] or f"第{i + 1}列": f for i, f in sorted(header.columns.items())}
    sr.ignored, sr.duplicates = header.ignored, header.duplicates
    title = title_text(sheet, header)
    match = _place(sheet, title, rel, settings, pin)
    sr.village_code, sr.village_name, sr.village_how = match.code, match.name, match.how
    data, marks, layout = classify(sheet, header)
    sr.data_rows = len(data)
    sr.layout = {k: v for k, v in layout.items() if v}
    fields = set(header.columns.values())
    per_row = "village_code" in fields or (p.table != "ledger" and "village_name" in fields)
    if match.code is None and per_row:
        sr.village_how = "按行: 以村代码或村名列查村级区划目录"
    elif match.code is None:
        amb = f"（可能是 {', '.join(match.ambiguous)}）" if match.ambiguous else ""
        sr.problem = (f"无法确定所属村: {match.how}{amb}。已尝试: 表头上方的标题行、工作表名、文件名、所在文件夹。"
                      f"请在县配置 imports.files 中为此文件指定 village")
        return None, sr
    f, other = frame_of(sheet, header, data)
    stem = Path(rel).stem
    year, month = year_hint(title, sheet.name, stem), month_hint(sheet.name, title)
    context = dict(village_code=match.code or "", village_name=match.name or "", year=str(year or ""),
                   month=str(month or ""), title=title, stem=stem)
    numbers = np.array([sheet.row_number(i) for i in data], dtype="int64")
    sheet_name = sheet.name if len(wb.sheets) > 1 or wb.kind in ("xlsx", "xls", "ods") else None
    checks = _subtotals(sheet, header, data, marks, f)
    return SheetFields(p, sr, f, other, numbers, rel, sheet_name, context, checks, sheet.broken), sr


_CARRY = ("上期结存", "上年结转", "期初余额", "年初余额", "承前页", "承上页", "本月结存", "结转下月", "结转下年", "期末余额",
          "过次页", "转下页")


def _subtotals(sheet: Sheet, header, data: list[int], marks, f: pd.DataFrame) -> list[tuple[int, int, str]]:
    """本月合计/小计/合计 rows against the lines above them, 本年累计/累计 against everything since the start: each
    mismatch as (first, last) data-row positions and a message naming the row."""
    if not marks or not len(f):
        return []
    amount_fields = [c for c in ("debit", "credit", "amount") if c in f]
    cols = {v: k for k, v in header.columns.items()}
    values = {c: amounts_float(f[c]) for c in amount_fields}
    out: list[tuple[int, int, str]] = []
    segment_start = 0
    for i, kind, label in marks:
        if kind != "subtotal" or label in _CARRY:
            continue
        upto = int(np.searchsorted(np.asarray(data), i))
        cumulative = label in ("本年累计", "累计", "本期累计", "年计")
        lo = 0 if cumulative else segment_start
        row = sheet.rows[i]
        for c in amount_fields:
            col = cols[c]
            if col >= len(row) or not str(row[col]).strip():
                continue
            stated = _number(str(row[col]))
            seg = values[c][lo:upto]
            if np.isnan(stated) or upto <= lo:
                continue
            sums = [float(np.nansum(seg))]
            if c == "amount":  # one signed amount: a 合计 may add all of them, or the debits (the positive ones)
                sums.append(float(np.nansum(np.where(seg > 0, seg, 0))))
            if all(abs(stated - x) > 0.005 + 1e-9 * abs(x) for x in sums):
                what = {"debit": "借方", "credit": "贷方", "amount": "金额"}[c]
                out.append((lo, upto - 1, f"第 {sheet.row_number(i)} 行“{label}”{what} {stated:,.2f} 与其上 "
                                          f"{upto - lo} 行明细合计 {sums[0]:,.2f} 不符"))
        if not cumulative:
            segment_start = upto
    return out


def _number(text: str) -> float:
    t = re.sub(r"[,，\s¥￥元]", "", to_halfwidth(text))
    neg = t.startswith("(") and t.endswith(")")
    try:
        v = float(t.strip("()"))
    except ValueError:
        return float("nan")
    return -v if neg else v


DERIVE_CHUNK_ROWS = 150_000  # rows derived at once: whole files, so every per-file rule still sees its file


def _chunks(group: list[SheetFields]) -> list[list[SheetFields]]:
    """The sheets of one profile in runs of whole files of about DERIVE_CHUNK_ROWS rows: one pandas pass per run
    instead of one per sheet, with memory bounded by the run, not the county."""
    out: list[list[SheetFields]] = [[]]
    rows = 0
    for i, g in enumerate(group):
        new_file = i == 0 or g.file != group[i - 1].file
        if new_file and rows >= DERIVE_CHUNK_ROWS and out[-1]:
            out.append([])
            rows = 0
        out[-1].append(g)
        rows += len(g.fields)
    return [c for c in out if c]


def derive_all(sheets: list[SheetFields], settings: ImportSettings) -> list[ImportedPart]:
    """Derive every profile's sheets, a run of whole files at a time; one part per run."""
    parts = []
    by_profile: dict[str, list[SheetFields]] = {}
    for sf in sheets:
        by_profile.setdefault(sf.profile.name, []).append(sf)
    file_ids: dict[str, int] = {}
    for whole in by_profile.values():
        for group in _chunks(whole):
            part = _derive_run(group, settings, file_ids)
            if part is not None:
                parts.append(part)
    return parts


def _derive_run(group: list[SheetFields], settings: ImportSettings, file_ids: dict[str, int]) -> ImportedPart | None:
    p = group[0].profile
    sizes = [len(g.fields) for g in group]
    f = pd.concat([g.fields for g in group], ignore_index=True).fillna("")
    other = pd.concat([g.other for g in group], ignore_index=True).fillna("")
    ctx_rows = pd.DataFrame({
        "part": np.repeat(np.arange(len(group)), sizes),
        "file": np.repeat([file_ids.setdefault(g.file, len(file_ids)) for g in group], sizes),
        **{k: np.repeat([g.context[k] for g in group], sizes)
           for k in ("village_code", "village_name", "year", "month", "title", "stem")}})
    try:
        out = DERIVE[p.table](f, other, Context(p, ctx_rows), settings.directory)
    except Exception as exc:  # a profile that does not fit after all must not sink the other files
        for g in group:
            g.report.problem = f"按导入格式 {p.name} 解析失败: {exc.__class__.__name__}: {exc}"
        return None
    del f, other
    src = out.index.to_numpy()
    rows = np.concatenate([g.rows for g in group])
    files = np.repeat(np.array([g.file for g in group], dtype=object), sizes)
    sheet_names = np.repeat(np.array([g.sheet for g in group], dtype=object), sizes)
    check = np.full(len(rows), None, dtype=object)
    offset = 0
    for g, n in zip(group, sizes, strict=True):
        for lo, hi, msg in g.checks:
            check[offset + lo: offset + hi + 1] = msg
        offset += n
    part_of = ctx_rows["part"].to_numpy()[src]
    out = out.reset_index(drop=True)
    out[ROW] = pd.array(rows[src], dtype="int64")
    out[FILE] = files[src]
    out[SHEET] = sheet_names[src]
    out[CHECK] = check[src]
    made = np.bincount(part_of, minlength=len(group))
    heads = pd.Series(np.arange(len(out))).groupby(part_of).head(3).to_numpy()
    samples: dict[int, list[dict]] = {}
    for pos, rec in zip(heads, out.iloc[heads].drop(columns=[ROW, FILE, SHEET, CHECK]).to_dict("records"),
                        strict=True):
        samples.setdefault(int(part_of[pos]), []).append(rec)
    for k, g in enumerate(group):
        g.report.sample = samples.get(k, [])
        if made[k] != sizes[k]:
            g.report.notes.append(f"{sizes[k]} 个数据行生成 {made[k]} 条记录（每行含干部及其亲属）")
        if g.checks:
            g.report.notes += [m for _, _, m in g.checks]
        g.fields = g.other = None  # derived: let the text go
    malformed = [(line, [text], why, g.file) for g in group for line, text, why in g.broken]
    ignored = sorted({h for g in group for h in g.report.ignored})
    return ImportedPart(p.table, out, malformed, ignored, p.name)


def read_paths(paths: list[Path], root: Path, settings: ImportSettings
               ) -> tuple[dict[str, list[ImportedPart]], list[FileReport]]:
    sheets: list[SheetFields] = []
    reports = []
    for path in paths:
        got, rep = read_file(path, root, settings)
        reports.append(rep)
        sheets += got
    by_table: dict[str, list[ImportedPart]] = {}
    for part in derive_all(sheets, settings):
        by_table.setdefault(part.table, []).append(part)
    return by_table, reports


def read_folder(root: Path, settings: ImportSettings, exclude: Set[Path] = frozenset()
                ) -> tuple[dict[str, list[ImportedPart]], list[FileReport], list[Path]]:
    files, other = candidate_files(root, settings, exclude)
    by_table, reports = read_paths(files, root, settings)
    return by_table, reports, other


def merge_parts(parts: list[ImportedPart]) -> pd.DataFrame:
    table = parts[0].table
    cols = [c for c in TABLES[table].column_names]
    frames = []
    for p in parts:
        df = p.frame
        for c in cols:
            if c not in df:
                df[c] = ""
        frames.append(df[[*cols, ROW, FILE, SHEET, CHECK]])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*cols, ROW, FILE, SHEET, CHECK])
