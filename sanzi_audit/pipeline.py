"""The nightly stages as plain functions: extract → validate → load → detect → rank → publish → report.

flows/nightly.py wraps each in a Prefect task; tests call these directly. Validation, the detector input and the
run's book are here; incremental runs (incremental.py), the warehouse load (loading.py) and publishing with the
system's lifecycle transitions (publish.py) have modules of their own and are re-exported for the flow.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from . import quality, store
from .config import Config, load_config
from .contract import TABLES, where
from .detectors.base import DetectorInput, Lead
from .incremental import Fingerprints, fingerprints, remember_loaded, skip_unchanged
from .loading import (
    BACKGROUND_LOAD_ROWS,
    Loaded,
    load,
    load_alongside,
    load_frames,
    load_in_process,
    peak_rss_mb,
)
from .publish import PublishResult, publish
from .quality import Validator
from .ranking import rank_leads
from .registry import DetectorReport, run_detectors
from .sources import Extract
from .validate import Validated, validate_table


@dataclass
class TableCount:
    table: str
    file: str
    read: int
    loaded: int
    quarantined: int
    warned: int = 0
    unchanged: int = 0  # skipped: loaded cleanly by an earlier run (read tonight = loaded + quarantined + unchanged)
    layout: int = 0  # rows of the files that are layout, not data (title, header, 小计/合计, blank, signature rows)
    columns: list[str] = field(default_factory=list)  # the contract columns the source filled (any value) tonight
    files: int = 0  # export files read for the table (real layouts; 0 for a contract file or a database)


@dataclass
class RunSummary:
    run_id: int
    status: str
    db_url: str
    counts: list[TableCount] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    detectors: list[DetectorReport] = field(default_factory=list)
    quarantine_examples: list[str] = field(default_factory=list)  # "file 第 N 行 column: reason", a few per table
    leads_total: int = 0
    leads_new: int = 0
    leads_updated: int = 0
    leads_reopened: int = 0
    leads_resolved: int = 0
    feedback: list[dict] = field(default_factory=list)  # reviewers' confirmed share per detector and township
    stages: dict[str, float] = field(default_factory=dict)
    data_docs: str | None = None  # index.html of this run's Data Docs
    scope: str | None = None  # a township- or period-limited run says so here
    skipped: dict[str, int] = field(default_factory=dict)  # rows outside that scope, per table
    unchanged: dict[str, int] = field(default_factory=dict)  # rows already loaded by an earlier run, per table
    load_process_rss_mb: float = 0.0  # peak memory of the background load process, when the load ran in one

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=str)


# re-exported stage functions (the flow and the tests reach them as pipeline.X)
__all__ = ["BACKGROUND_LOAD_ROWS", "Fingerprints", "Loaded", "PublishResult", "fingerprints", "load", "load_alongside",
           "load_frames", "load_in_process", "peak_rss_mb", "publish", "remember_loaded", "skip_unchanged"]


# ---- validate ------------------------------------------------------------------------------------

def validate_all(ex: Extract, config: Config | None = None, docs_dir: Path | str | None = None,
                 today: dt.date | None = None) -> ValidationRun:
    """Type and check every extracted table; Data Docs go to ``docs_dir`` when given."""
    config = config or load_config()
    today = today or dt.date.today()
    start, end = config.validation.period(today)
    villages = config.validation.villages or directory_codes(config)
    validator = Validator(quality.parameters(config.region.county_code, villages, start, end, today),
                          Path(docs_dir) if docs_dir else None)
    out = ValidationRun()
    for name, raw in ex.tables.items():
        out[name] = validate_table(raw, validator)
    out.data_docs = validator.build_docs()
    out.problems = county_mismatch(ex, config)
    return out


def directory_codes(config: Config) -> list[str]:
    """The county's village codes from its village directory (region.village_directory), when it has one."""
    if not config.region.village_directory:
        return []
    from .imports.villages import VillageDirectory

    base = Path(config.source_file).parent if config.source_file else Path.cwd()
    try:
        return VillageDirectory.load(base / config.region.village_directory).codes
    except ValueError:
        return []  # the extract already said why the directory cannot be read


def county_mismatch(ex: Extract, config: Config) -> list[str]:
    """One line, not a reason on every row, when most rows carry another county's code: the run was started
    without the county's config (or with another county's)."""
    from collections import Counter

    codes: Counter = Counter()
    for raw in ex.tables.values():
        if "village_code" in raw.frame:
            v = raw.frame["village_code"].astype("object").fillna("").astype("str").str.strip()
            codes.update(v[v.str.fullmatch(r"\d{12}")].str.slice(0, 6).tolist())
    total = sum(codes.values())
    mine = codes.get(config.region.county_code, 0)
    if total == 0 or mine >= total / 2:
        return []
    found = "、".join(f"{k}（{n} 行）" for k, n in codes.most_common(3))
    where = f"（配置文件 {config.source_file}）" if config.source_file else "（未指定配置文件，使用内置演示县配置）"
    return [f"县代码不符: 配置的 region.county_code 为 {config.region.county_code}{where}，数据中的村代码前 6 位为 "
            f"{found}。这些行都会因“不属于本县”被隔离；请用 --config 指定本县配置，或在配置中设置 region.county_code"]


class ValidationRun(dict):
    """Validated tables by name, plus where this run's Data Docs were written and run-level problems (one line
    each, e.g. every row of another county)."""

    data_docs: Path | None = None
    problems: list[str] = []


def filled_columns(ex: Extract) -> dict[str, list[str]]:
    """Per table, the contract columns that hold a value in at least one row of tonight's whole extract."""
    import pyarrow.compute as pc

    from .normalize import to_arrow

    def filled(s: pd.Series) -> bool:  # in Arrow: a Python-object pass cost 4.6 s at 300 villages
        arr = pc.utf8_trim_whitespace(to_arrow(s))
        return bool(pc.any(pc.not_equal(arr, "")).as_py())

    return {name: [c for c in TABLES[name].column_names if c in raw.frame and filled(raw.frame[c])]
            for name, raw in ex.tables.items()}


def lost_columns(engine: sa.Engine, filled: dict[str, list[str]]) -> list[str]:
    """Problems for columns the last complete night's source filled and tonight's does not (a renamed header, an
    export that left a column empty): such a night cannot tell fixed records from missing data, so it is partial
    and resolves no lead by data."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(store.runs.c.counts).where(store.runs.c.status == "success")
                           .order_by(store.runs.c.run_id.desc()).limit(1)).first()
    if row is None or not row.counts:
        return []
    before = {c["table"]: set(c.get("columns") or []) for c in json.loads(row.counts)}
    out = []
    for table, cols in filled.items():
        gone = sorted(before.get(table, set()) - set(cols))
        if gone and before.get(table):
            t = TABLES[table]
            names = "、".join(f"{c}（{t.column(c).aliases[0] if t.column(c).aliases else c}）" for c in gone)
            out.append(f"{t.title}({table}) 上次完整运行时有值的列今晚缺失或全部为空: {names}。可能是表头改名或导出遗漏；"
                       f"今晚不会因数据变化关闭线索，请检查导出文件（sanzi inspect）")
    return out


def layout_of(counts: list[TableCount], files: list) -> None:
    """Per table, the export files read through profiles and their layout rows (imports.reader.FileReport)."""
    for c in counts:
        sheets = [s for f in files for s in f.sheets if s.table == c.table]
        c.layout = sum(sum(s.layout.values()) for s in sheets)
        c.files = len({f.path for f in files for s in f.sheets if s.table == c.table})


def counts_of(validated: dict[str, Validated]) -> list[TableCount]:
    out = []
    for name in TABLES:
        v = validated.get(name)
        if v is None:
            continue
        assert v.rows_read == v.rows_loaded + v.rows_quarantined, f"{name}: rows lost in validation"
        out.append(TableCount(name, v.file, v.rows_read, v.rows_loaded, v.rows_quarantined, len(v.warnings)))
    return out


def places_of(validated: dict[str, Validated], config: Config) -> dict[str, tuple[str, str]]:
    """Village and township names by code: the county's village directory first, else the name the books give the
    village (the most frequent ledger village_name). Townships are named only by the directory."""
    out: dict[str, tuple[str, str]] = {}
    led = validated.get("ledger")
    if led is not None and "village_name" in led.clean and len(led.clean):
        named = led.clean[["village_code", "village_name"]].dropna()
        named = named[named["village_name"].str.strip() != ""]
        if len(named):
            top = named.groupby(["village_code", "village_name"], sort=True).size().reset_index(name="n")
            top = top.sort_values(["village_code", "n"], ascending=[True, False], kind="stable")
            top = top.drop_duplicates("village_code")  # each village's most frequent name
            out = {c: (n, "books") for c, n in zip(top["village_code"], top["village_name"], strict=True)}
    if config.region.village_directory:
        from .imports import reader

        try:
            directory = reader.ImportSettings.from_config(config).directory
        except ValueError:  # extract already reported an unreadable directory
            directory = None
        for v in (directory.villages if directory else []):
            if v.code not in out or out[v.code][1] != "directory":
                if directory is not None and directory.name_of(v.code) == v.name:  # its name, not an alias
                    out[v.code] = (v.name, "directory")
            if v.township and v.code[:9] not in out:
                out[v.code[:9]] = (v.township, "directory")
    return out


def quarantine_examples(validated: dict[str, Validated], per_table: int = 5) -> list[str]:
    out = []
    for name in TABLES:
        v = validated.get(name)
        if v is None:
            continue
        for q in v.quarantine[:per_table]:
            why = "；".join(f"{r['column'] or '整行'}: {r['message']}" for r in q["reasons"])
            out.append(f"{where(q)} 第 {q['source_row']} 行 {why}")
        if len(v.quarantine) > per_table:
            out.append(f"{Path(v.file).name} 另有 {len(v.quarantine) - per_table} 行被隔离（见 quarantine 表）")
    return out


WARNING_COLUMNS = ["table", "check", "village_code", "record_id", "source_file", "source_sheet", "source_row",
                   "message", "amount"]


def warnings_view(validated: dict[str, Validated]) -> pd.DataFrame:
    """The ``warnings`` view detectors read (DetectorInput.warnings): one row per loaded record and failing
    ``warning`` expectation marked ``lead``, in canonical order (table, check, village, record)."""
    rows = [dict(table=w["table"], check=r["check"], village_code=str(w["village_code"]), record_id=str(w["record_id"]),
                 source_file=w["source_file"], source_sheet=w["source_sheet"], source_row=w["source_row"],
                 message=r["message"], amount=w["amount"])
            for v in validated.values() for w in v.warnings for r in w["reasons"] if r.get("lead")]
    df = pd.DataFrame(rows, columns=WARNING_COLUMNS)
    return df.sort_values(["table", "check", "village_code", "source_file", "source_row", "record_id"],
                          kind="stable").reset_index(drop=True)


def quality_leads(validated: dict[str, Validated]) -> list[Lead]:
    """The data-quality leads of tonight's validation alone (detector data_quality over the warnings view)."""
    from sanzi_audit.detectors.data_quality import DataQuality

    return DataQuality().detect(DetectorInput({}, load_config(), warnings=warnings_view(validated)))


# ---- load ----------------------------------------------------------------------------------------

# ---- detect --------------------------------------------------------------------------------------

def detector_input(engine: sa.Engine, validated: dict[str, Validated], run_id: int, config: Config,
                   url: str | None = None) -> DetectorInput:
    """Tonight's validated rows plus the warehouse history they do not replace. With ``url``, history comes from
    the warehouse snapshot when the warehouse still matches it: call this before tonight's load starts."""
    tables: dict[str, pd.DataFrame] = {}
    for name, t in TABLES.items():
        tonight = validated[name].clean[t.column_names] if name in validated else None
        history = store.contiguous(store.read_history(engine, url, name, exclude_run=run_id) if url
                                   else store.read_warehouse(engine, name, exclude_run=run_id))
        if tonight is not None and len(tonight) and len(history):
            # rows tonight replaces (read before the load, history still holds their old versions)
            keys = store._row_keys(t, history)
            history = history[~keys.isin(set(store._row_keys(t, tonight))).to_numpy()]
        parts = [x for x in (tonight, history) if x is not None and len(x)]
        if not parts:
            if tonight is not None:
                tables[name] = tonight
            continue
        tables[name] = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    return DetectorInput(tables, config, warnings_view(validated))  # every table in canonical order


def save_snapshot(engine: sa.Engine, url: str, data: DetectorInput) -> None:
    """After tonight's load has finished: the warehouse as it now stands, for the next night's history."""
    for name, frame in data.tables.items():
        store.write_snapshot(engine, url, name, frame)


# Above this many rows the load runs in its own process, alongside detection (SQLite inserts are bound to one
# core by Python; detection is bound to the other): a full 300-village night saves about 18 s.
def detect(data: DetectorInput, config: Config):
    return run_detectors(data, config)


def detect_carrying(data: DetectorInput, config: Config, engine: sa.Engine | None = None, carry: str = "off"):
    """Run the detectors. ``carry``: "reuse" carries over the leads of detectors whose input is as on the last night
    (carry.py), "store" runs everything and stores it for the next night (a --full night), "off" neither (a
    limited night, whose input is not the county's). Returns leads, reports and the entries to store (or None)."""
    from . import carry as carry_

    if carry == "off" or engine is None:
        return (*run_detectors(data, config), None)
    c = carry_.Carry(carry_.load(engine) if carry == "reuse" else {}, data)
    leads, reports = run_detectors(data, config, carry=c)
    return leads, reports, c.entries


# ---- publish -------------------------------------------------------------------------------------

def rank(leads, config: Config, engine: sa.Engine | None = None) -> pd.DataFrame:
    from .ranking import feedback_weights
    from .review import confirmed_share

    feedback = feedback_weights(confirmed_share(engine), config) if engine is not None else {}
    return rank_leads(leads, config, feedback)


def parameters_of(config: Config, source: str) -> dict:
    """Everything that decides tonight's leads, stored with the run for traceability."""
    return {"source": source, "config": config.model_dump(mode="json"),
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
