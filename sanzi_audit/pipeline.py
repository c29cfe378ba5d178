"""The nightly stages as plain functions: extract → validate → load → detect → rank → publish → report.

flows/nightly.py wraps each in a Prefect task; tests call these directly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from . import quality, store
from .config import Config, Review, load_config
from .contract import TABLES, where
from .detectors.base import DetectorInput, Lead
from .quality import Validator
from .ranking import rank_leads
from .registry import DetectorReport, run_detectors
from .review import SYSTEM_TRANSITIONS
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


# ---- incremental runs ----------------------------------------------------------------------------

@dataclass
class Fingerprints:
    """Tonight's rows' fingerprints (by source row number, per table) and the rows skipped as unchanged."""
    by_row: dict[str, pd.Series] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)


def fingerprints(frame: pd.DataFrame) -> pd.Series:
    """A 64-bit hash of each raw row's values (not its file or row number), indexed like ``frame``."""
    from .sources import META

    cols = [c for c in frame.columns if c not in META]
    return pd.util.hash_pandas_object(frame[cols], index=False).astype("int64")


def skip_unchanged(engine: sa.Engine, ex: Extract, use_known: bool = True) -> tuple[Extract, Fingerprints]:
    """Drop the rows an earlier run already loaded cleanly (the watermark of each source table is the set of
    fingerprints in ``source_rows``). A changed ledger line brings back every line of its voucher, so voucher
    checks (balance, duplicates) always see whole vouchers. Quarantined and warned rows were never remembered,
    so they are validated again. Detection still sees the whole history: it reads the warehouse."""
    import numpy as np

    from .sources import SEQ, RawTable

    out = Extract(problems=ex.problems, absent=ex.absent, skipped=dict(ex.skipped), files=ex.files)
    fp = Fingerprints()
    for name, raw in ex.tables.items():
        frame = raw.frame
        h = fingerprints(frame).to_numpy()
        seen = store.is_known(h, store.known_rows(engine, name)) if use_known else np.zeros(len(h), dtype=bool)
        if name == "ledger" and seen.any() and not seen.all():
            voucher = frame["village_code"].astype("str") + "\x1f" + frame["voucher_no"].astype("str")
            seen &= ~voucher.isin(voucher[~seen]).to_numpy()
        keep = ~seen
        fp.unchanged[name] = int(seen.sum())
        kept = frame if keep.all() else frame.loc[keep].reset_index(drop=True)  # a first night keeps all: no copy
        fp.by_row[name] = pd.Series(h[keep], index=kept[SEQ].to_numpy())
        out.tables[name] = RawTable(raw.table, raw.file, kept, raw.malformed, raw.ignored_columns, raw.encoding)
    return out, fp


def remember_loaded(engine: sa.Engine, validated: dict[str, Validated], fp: Fingerprints, run_id: int) -> int:
    """Remember the fingerprints of rows that loaded without a warning."""
    from .sources import SEQ

    n = 0
    for name, v in validated.items():
        hashes = fp.by_row.get(name)
        if hashes is None or v.clean.empty:
            continue
        rows = v.clean[SEQ]
        rows = rows[~rows.isin([w["seq"] for w in v.warnings])]
        n += store.remember_rows(engine, name, hashes.reindex(rows.to_numpy()).dropna().to_numpy(dtype="int64"), run_id)
    return n


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

def load(engine: sa.Engine, validated: dict[str, Validated], run_id: int) -> dict[str, int]:
    return load_frames(engine, {name: v.clean for name, v in validated.items()},
                       [q for v in validated.values() for q in v.quarantine], run_id)


def load_frames(engine: sa.Engine, frames: dict[str, pd.DataFrame | Iterable[pd.DataFrame]], quarantine: list[dict],
                run_id: int) -> dict[str, int]:
    written = {name: store.load_warehouse(engine, name, df, run_id) for name, df in frames.items()}
    store.write_quarantine(engine, run_id, quarantine)
    return written


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
    return canonical_input(tables, config, warnings_view(validated))


def canonical_input(tables: dict[str, pd.DataFrame], config: Config,
                    warnings: pd.DataFrame | None = None) -> DetectorInput:
    """The detectors' input with every table in one canonical order (by its unique key), so nothing a detector
    derives (an owner, a first-seen label, a lead id) depends on the order rows arrived in: tonight's rows then
    history on an incremental night, file order on a --full night."""
    return DetectorInput(tables, config, warnings=warnings)  # DetectorInput puts every table in canonical order


def save_snapshot(engine: sa.Engine, url: str, data: DetectorInput) -> None:
    """After tonight's load has finished: the warehouse as it now stands, for the next night's history."""
    for name, frame in data.tables.items():
        store.write_snapshot(engine, url, name, frame)


# Above this many rows the load runs in its own process, alongside detection (SQLite inserts are bound to one
# core by Python; detection is bound to the other): a full 300-village night saves about 18 s.
BACKGROUND_LOAD_ROWS = 200_000


@dataclass
class Loaded:
    rows: dict[str, int]  # written per table
    process_peak_mb: float = 0.0  # the background load process's own peak memory (0 when loaded in-process)


def load_in_process(url: str, folder: str, quarantine: list[dict], run_id: int) -> dict[str, float]:
    """``load`` in a fresh (spawned) process: no Prefect, no threads or connections inherited. Tonight's rows
    arrive as Parquet files (pickling them would hold a second copy of every row in the parent)."""
    import pyarrow.parquet as pq

    def batches(file: Path):  # a row group at a time: this process never holds a whole table
        for batch in pq.ParquetFile(file).iter_batches(batch_size=store.CHUNK_ROWS):
            yield batch.to_pandas()

    frames = {f.stem: batches(f) for f in sorted(Path(folder).glob("*.parquet"))}
    written = load_frames(store.connect(url), frames, quarantine, run_id)
    return {**written, "_peak_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started its program (VmHWM). Unlike ru_maxrss it is not
    inherited from the parent at fork, so a spawned worker's figure is its own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def load_alongside(url: str, validated: dict[str, Validated], run_id: int) -> Loaded:
    """Load tonight's rows, in a separate process when there are many (see BACKGROUND_LOAD_ROWS)."""
    rows = sum(len(v.clean) for v in validated.values())
    if rows < BACKGROUND_LOAD_ROWS:
        return Loaded(load(store.connect(url), validated, run_id))
    import multiprocessing as mp
    import shutil
    import tempfile
    from concurrent.futures import ProcessPoolExecutor

    folder = tempfile.mkdtemp(prefix="sanzi-load-")
    try:
        for name, v in validated.items():
            if len(v.clean):
                v.clean.to_parquet(Path(folder) / f"{name}.parquet", index=False)
        quarantine = [q for v in validated.values() for q in v.quarantine]
        with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
            written = pool.submit(load_in_process, url, folder, quarantine, run_id).result()
        return Loaded({name: int(written.get(name, 0)) for name in validated}, written["_peak_mb"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def detect(data: DetectorInput, config: Config):
    return run_detectors(data, config)


# ---- publish -------------------------------------------------------------------------------------

@dataclass
class PublishResult:
    new: int = 0
    updated: int = 0
    reopened: int = 0
    resolved_by_data: int = 0


def publish(engine: sa.Engine, ranked: pd.DataFrame, run_id: int, review: Review | None = None,
            complete: bool = True, detectors_ran: set[str] | None = None) -> PublishResult:
    """Write tonight's ranked leads in one transaction: readers see last night's leads or tonight's, never half.

    Detection fields are updated; review fields (status, assignee, notes) are never touched, except by the
    lifecycle's system transitions, each recorded in lead_events:
    - a 不属实/已办结 lead whose evidence grows materially (new records, or more money than
      ``review.reopen_amount_growth``), or a 数据已更正 lead that reappears, is reopened as 待核查;
    - in a complete run, an open lead (待核查/核查中) of a detector that ran tonight but did not find it again
      is marked 数据已更正 (resolved by data). Nothing is deleted.
    Leads not seen tonight keep their rows; their rank is cleared so the queue shows current leads in order.
    """
    review = review or Review()
    ts = store.now()
    out = PublishResult()
    L, E = store.leads, store.lead_events
    with engine.begin() as conn:
        before = {r.lead_id: r for r in conn.execute(sa.select(L.c.lead_id, L.c.status, L.c.amount_at_risk))}
        rows: list[dict] = []
        evidence: list[dict] = []
        events: list[dict] = []
        tonight: dict[str, set[tuple[str, str]]] = {}
        for r in ranked.itertuples(index=False):
            rows.append(dict(lead_id=r.lead_id, detector=r.detector,
                             detector_version=getattr(r, "detector_version", None) or None, case_id=r.case_id,
                             village_code=r.village_code, township_code=r.township_code, score=float(r.score),
                             priority=float(r.priority), rank=int(r.rank), amount_at_risk=float(r.amount_at_risk),
                             title=r.title, explanation=r.explanation, details=r.details, status="new",
                             first_seen_run=run_id, last_seen_run=run_id, created_at=ts, updated_at=ts))
            recs = {(t, str(i)) for t, i in r.evidence}
            tonight[r.lead_id] = recs
            evidence.extend(dict(lead_id=r.lead_id, source_table=t, record_id=i) for t, i in recs)

        reopen = _to_reopen(conn, before, tonight, ranked, review)
        conn.execute(L.update().where(L.c.last_seen_run < run_id).values(rank=None))
        if rows:
            ins = _insert(conn, L)
            stmt = ins.on_conflict_do_update(
                index_elements=["lead_id"],
                set_={c: getattr(ins.excluded, c) for c in store.DETECTION_FIELDS})
            for i in range(0, len(rows), 5000):
                conn.execute(stmt, rows[i:i + 5000])
        if evidence:
            _with_sources(conn, evidence)
            ev = _insert(conn, store.lead_evidence).on_conflict_do_nothing()
            for i in range(0, len(evidence), 20000):
                conn.execute(ev, evidence[i:i + 20000])
        for lead_id, note in reopen.items():
            conn.execute(L.update().where(L.c.lead_id == lead_id).values(status="new", updated_at=ts))
            events.append(dict(lead_id=lead_id, at=ts, actor="pipeline", event="reopened",
                               from_status=before[lead_id].status, to_status="new", note=note))
        new_ids = [r["lead_id"] for r in rows if r["lead_id"] not in before]
        events.extend(dict(lead_id=x, at=ts, actor="pipeline", event="created", from_status=None, to_status="new",
                           note=f"第 {run_id} 次运行发现") for x in new_ids)
        if complete and detectors_ran:
            gone = conn.execute(sa.select(L.c.lead_id, L.c.status).where(
                L.c.last_seen_run < run_id, L.c.status.in_(SYSTEM_TRANSITIONS["resolved_by_data"]),
                L.c.detector.in_(sorted(detectors_ran)))).all()
            for g in gone:
                conn.execute(L.update().where(L.c.lead_id == g.lead_id).values(status="resolved_by_data", updated_at=ts))
                events.append(dict(lead_id=g.lead_id, at=ts, actor="pipeline", event="resolved_by_data",
                                   from_status=g.status, to_status="resolved_by_data",
                                   note=f"第 {run_id} 次运行（完整运行）未再发现该疑点：源数据可能已更正"))
            out.resolved_by_data = len(gone)
        if events:
            conn.execute(E.insert(), events)
    out.new, out.updated, out.reopened = len(new_ids), len(rows) - len(new_ids), len(reopen)
    return out


def _with_sources(conn, evidence: list[dict]) -> None:
    """Stamp each evidence record with the file, sheet and row it came from (as the warehouse has it tonight), so a
    lead keeps "来源: 文件 第 N 行" even after the record is reloaded from elsewhere."""
    by_table: dict[str, set[str]] = {}
    for e in evidence:
        by_table.setdefault(e["source_table"], set()).add(e["record_id"])
    where: dict[tuple[str, str], tuple] = {}
    for table, ids in by_table.items():
        wh = store.WAREHOUSE.get(table)
        if wh is None:
            continue
        rid = wh.c[TABLES[table].record_id]
        ordered = sorted(ids)
        for i in range(0, len(ordered), 5000):
            q = sa.select(rid, wh.c.source_file, wh.c.source_sheet, wh.c.source_row).where(
                rid.in_(ordered[i:i + 5000]))
            for r in conn.execute(q):
                where.setdefault((table, str(r[0])), (r[1], r[2], r[3]))
    for e in evidence:
        f, s, n = where.get((e["source_table"], e["record_id"]), (None, None, None))
        e.update(source_file=f, source_sheet=s, source_row=n)


def _to_reopen(conn, before: dict, tonight: dict[str, set], ranked: pd.DataFrame, review: Review) -> dict[str, str]:
    """Concluded leads seen again whose evidence grew materially, with a note saying what changed."""
    closed = [lid for lid in tonight if lid in before and before[lid].status in SYSTEM_TRANSITIONS["reopen"]]
    if not closed:
        return {}
    old: dict[str, set] = {lid: set() for lid in closed}
    for i in range(0, len(closed), 500):
        q = sa.select(store.lead_evidence).where(store.lead_evidence.c.lead_id.in_(closed[i:i + 500]))
        for r in conn.execute(q):
            old[r.lead_id].add((r.source_table, r.record_id))
    amount = dict(zip(ranked["lead_id"], ranked["amount_at_risk"], strict=True))
    out = {}
    for lid in closed:
        prev = before[lid]
        if prev.status == "resolved_by_data":
            out[lid] = "此前已因数据更正而关闭的疑点再次出现"
            continue
        added = tonight[lid] - old[lid]
        was, now_ = float(prev.amount_at_risk or 0), float(amount[lid])
        reasons = []
        if review.reopen_on_new_records and added:
            reasons.append(f"新增 {len(added)} 条证据记录（{'、'.join(sorted(r for _, r in added)[:5])}"
                           f"{'等' if len(added) > 5 else ''}）")
        if now_ > was * (1 + review.reopen_amount_growth):
            reasons.append(f"涉及金额由 {was:,.2f} 元增至 {now_:,.2f} 元")
        if reasons:
            out[lid] = "证据增加，重新打开：" + "；".join(reasons)
    return out


def _insert(conn, table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def rank(leads, config: Config, engine: sa.Engine | None = None) -> pd.DataFrame:
    from .ranking import feedback_weights
    from .review import confirmed_share

    feedback = feedback_weights(confirmed_share(engine), config) if engine is not None else {}
    return rank_leads(leads, config, feedback)


def parameters_of(config: Config, source: str) -> dict:
    """Everything that decides tonight's leads, stored with the run for traceability."""
    return {"source": source, "config": config.model_dump(mode="json"),
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
