"""The review database: warehouse tables, runs, quarantine, and the review table (leads, evidence, events).

One module and one schema serve the pipeline and the review page. SQLite is the embedded default;
PostgreSQL is production. Bulk writes take each dialect's fast path (SQLite: Arrow batches through ADBC into a staging
file; PostgreSQL: COPY into a temporary table) and upsert from there on the record key, so reloading the same file
never duplicates rows.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .contract import TABLES, Table
from .sources import FILE, ROW, SHEET, safe_url

DEFAULT_DB_FILE = "sanzi.db"
log = logging.getLogger(__name__)

metadata = sa.MetaData()

_SA_TYPES = {"text": sa.Text, "code": sa.Text, "amount": sa.Float, "number": sa.Float, "date": sa.Date}


def _warehouse_table(t: Table) -> sa.Table:
    cols: list[sa.Column] = [sa.Column("row_key", sa.Text, primary_key=True)]
    cols += [sa.Column(c.name, _SA_TYPES[c.kind]()) for c in t.columns]
    cols += [sa.Column("source_file", sa.Text), sa.Column("source_row", sa.Integer),
             sa.Column("loaded_run", sa.Integer), sa.Column("source_sheet", sa.Text)]
    idx = [sa.Index(f"ix_wh_{t.name}_village", "village_code")]
    if t.record_id != t.unique_key[0] or t.key:
        idx.append(sa.Index(f"ix_wh_{t.name}_record", t.record_id))
    return sa.Table(f"wh_{t.name}", metadata, *cols, *idx)


WAREHOUSE: dict[str, sa.Table] = {name: _warehouse_table(t) for name, t in TABLES.items()}

runs = sa.Table(
    "runs", metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("status", sa.Text, nullable=False),  # running / success / partial / failed
    sa.Column("source", sa.Text),
    sa.Column("parameters", sa.Text),  # JSON: config and detector parameters used, for traceability
    sa.Column("counts", sa.Text),  # JSON: per table read / loaded / quarantined
    sa.Column("stages", sa.Text),  # JSON: seconds per stage
    sa.Column("leads_new", sa.Integer),
    sa.Column("leads_updated", sa.Integer),
    sa.Column("leads_reopened", sa.Integer),
    sa.Column("leads_resolved", sa.Integer),
    sa.Column("message", sa.Text),
    sa.Column("data_docs", sa.Text),  # index.html of the run's Data Docs (validation results)
)

quarantine = sa.Table(
    "quarantine", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=False, index=True),
    sa.Column("table_name", sa.Text, nullable=False),
    sa.Column("source_file", sa.Text),
    sa.Column("source_row", sa.Integer),
    sa.Column("raw", sa.Text),
    sa.Column("source_sheet", sa.Text),
    sa.Column("reasons", sa.Text),  # JSON list of {check, column, message, severity}
)

leads = sa.Table(
    "leads", metadata,
    sa.Column("lead_id", sa.Text, primary_key=True),
    sa.Column("detector", sa.Text, nullable=False, index=True),
    sa.Column("detector_version", sa.Text),
    sa.Column("case_id", sa.Text, index=True),
    sa.Column("village_code", sa.Text, index=True),
    sa.Column("township_code", sa.Text, index=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("priority", sa.Float, nullable=False),
    sa.Column("rank", sa.Integer, index=True),
    sa.Column("amount_at_risk", sa.Float),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("explanation", sa.Text, nullable=False),
    sa.Column("details", sa.Text),  # JSON: the features behind the score
    # review fields: written by people, never by the nightly run
    sa.Column("status", sa.Text, nullable=False, server_default="new"),
    sa.Column("assignee", sa.Text),
    sa.Column("first_seen_run", sa.Integer, nullable=False),
    sa.Column("last_seen_run", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

lead_evidence = sa.Table(
    "lead_evidence", metadata,
    sa.Column("lead_id", sa.Text, primary_key=True),
    sa.Column("source_table", sa.Text, primary_key=True),
    sa.Column("record_id", sa.Text, primary_key=True),
    # where the record came from when it became evidence: the export file, its sheet and row as the sheet shows it
    sa.Column("source_file", sa.Text),
    sa.Column("source_sheet", sa.Text),
    sa.Column("source_row", sa.Integer),
    sa.Index("ix_evidence_record", "source_table", "record_id"),
)

lead_events = sa.Table(
    "lead_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("lead_id", sa.Text, nullable=False, index=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),  # "pipeline" or a user name
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text),
    sa.Column("note", sa.Text),
)

# Review states as auditors read them (the lifecycle and its transitions are the review table's job).
STATUS_LABELS = {"new": "待核查", "in_review": "核查中", "confirmed": "属实", "dismissed": "不属实",
                 "referred": "已移交", "closed": "已办结", "resolved_by_data": "数据已更正"}

# One row per detector per run: which rule, at which version, with which effective parameters, how it ended, how
# many leads, how long. Which version of a rule produced a lead is part of the evidence.
run_detectors = sa.Table(
    "run_detectors", metadata,
    sa.Column("run_id", sa.Integer, primary_key=True),
    sa.Column("detector", sa.Text, primary_key=True),
    sa.Column("version", sa.Text),
    sa.Column("status", sa.Text, nullable=False),  # ran / skipped / disabled / failed
    sa.Column("leads", sa.Integer, nullable=False, server_default="0"),
    sa.Column("seconds", sa.Float),
    sa.Column("params", sa.Text),  # JSON
    sa.Column("reason", sa.Text),
    sa.Column("carried", sa.Text),  # all / "N of M villages run again" (carry.py); NULL: it ran on everything
)

# Each detector's last result and the key it was computed under (carry.py): a night whose key matches carries
# the leads over instead of running the detector again.
detector_carry = sa.Table(
    "detector_carry", metadata,
    sa.Column("detector", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, nullable=False),  # hash of code, version, parameters, configuration, tables read
    sa.Column("villages", sa.Text),  # JSON village → hash of its rows (village-scope detectors)
    sa.Column("leads", sa.Text, nullable=False),  # JSON list of leads
    sa.Column("notes", sa.Text),  # JSON list
    sa.Column("run_id", sa.Integer),  # the run that stored it
)


def record_detectors(engine: sa.Engine, run_id: int, reports) -> None:
    """Store the run's detector reports (registry.DetectorReport), replacing any earlier ones of the run."""
    rows = [dict(run_id=run_id, detector=r.name, version=str(r.version or "") or None, status=r.status,
                 leads=int(r.leads), seconds=round(float(r.seconds), 3),
                 params=json.dumps(r.params, ensure_ascii=False, default=str), reason=r.reason or None,
                 carried=getattr(r, "carried", "") or None)
            for r in reports]
    with engine.begin() as conn:
        conn.execute(run_detectors.delete().where(run_detectors.c.run_id == run_id))
        if rows:
            conn.execute(run_detectors.insert(), rows)


# What auditors read instead of codes: each village's and township's name, from the county's village directory or,
# without one, the name the books give the village (ledger village_name). Rewritten by every run that knows names.
places = sa.Table(
    "places", metadata,
    sa.Column("code", sa.Text, primary_key=True),  # 12-digit village or 9-digit township code
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("source", sa.Text),  # directory / books
)


def record_places(engine: sa.Engine, names: dict[str, tuple[str, str]]) -> None:
    """Upsert ``code → (name, source)``; a name from the directory is never replaced by one from the books."""
    if not names:
        return
    with engine.begin() as conn:
        known = {code: source for code, source in conn.execute(sa.select(places.c.code, places.c.source))}
        for code, (name, source) in sorted(names.items()):
            if code in known:
                if known[code] == "directory" and source != "directory":
                    continue
                conn.execute(places.update().where(places.c.code == code).values(name=name, source=source))
            else:
                conn.execute(places.insert().values(code=code, name=name, source=source))


def place_names(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {code: name for code, name in conn.execute(sa.select(places.c.code, places.c.name))}


run_lock = sa.Table(
    "run_lock", metadata,
    sa.Column("name", sa.Text, primary_key=True),  # one row while a run writes this database
    sa.Column("run_label", sa.Text),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("acquired_at", sa.DateTime, nullable=False),
)


users = sa.Table(
    "users", metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("display_name", sa.Text),
    sa.Column("password_hash", sa.Text, nullable=False),  # scrypt, see web/auth.py
    sa.Column("role", sa.Text, nullable=False),  # auditor / supervisor / admin
    sa.Column("scope", sa.Text, nullable=False),  # JSON list of code prefixes (county 6, township 9 digits) or ["*"]
    sa.Column("can_unmask", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("password_changed_at", sa.DateTime, nullable=False),
)

# Sign-in failures per name typed, whether or not an account has that name: an unknown name is throttled and
# locked exactly like a real one, so the answers do not tell accounts apart. The counter rises before the
# password is checked, in one UPDATE, so parallel guesses cannot slip past the lock.
sign_in_failures = sa.Table(
    "sign_in_failures", metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime),
    sa.Column("last_at", sa.DateTime),
)

# Server-side sessions: the cookie holds a random token, this table its keyed hash. Signing out revokes the one
# session; a password reset or disabling the account revokes all of them, and enabling it again revives none.
sessions = sa.Table(
    "sessions", metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("username", sa.Text, nullable=False, index=True),
    sa.Column("csrf", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime),
    sa.Column("client", sa.Text),
)

access_log = sa.Table(
    "access_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("username", sa.Text),
    sa.Column("action", sa.Text, nullable=False),  # login / login_failed / forbidden / unmask / export / csrf
    sa.Column("lead_id", sa.Text),
    sa.Column("detail", sa.Text),
    sa.Column("client", sa.Text),
)

# Fingerprints (64-bit hashes of the raw values) of source rows that loaded cleanly: a nightly run skips a row
# whose fingerprint is here. Quarantined rows and rows loaded with warnings are never remembered, so they are
# looked at again every night until fixed. One row per table and run holds that run's fingerprints as a packed
# int64 array: a million fingerprints are 8 MB, written and read in milliseconds.
source_rows = sa.Table(
    "source_rows", metadata,
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("run_id", sa.Integer, primary_key=True),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("hashes", sa.LargeBinary, nullable=False),
)


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """np.unique for int64 fingerprints by sort and compare: numpy 2.4's np.unique takes a hash path that spent
    8.5 s on the 6M fingerprints of a 1,000-village county, against about 0.5 s sorted."""
    a = np.sort(np.asarray(a, dtype="<i8"))
    if len(a) < 2:
        return a
    return a[np.concatenate(([True], a[1:] != a[:-1]))]


def is_known(hashes: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Whether each of ``hashes`` is in ``known``: pandas' hash table (0.5 s for 3.5M against 3.5M, where
    np.isin took 5.6 s and a binary search 2.6 s)."""
    if not len(known):
        return np.zeros(len(hashes), dtype=bool)
    return pd.Series(hashes).isin(known).to_numpy(copy=True)


def known_rows(engine: sa.Engine, table: str) -> np.ndarray:
    """The fingerprints remembered for ``table``, as a sorted int64 array."""
    with engine.connect() as conn:
        blobs = conn.execute(sa.select(source_rows.c.hashes).where(source_rows.c.table_name == table)).scalars().all()
    if not blobs:
        return np.zeros(0, dtype=np.int64)
    return sorted_unique(np.concatenate([np.frombuffer(b, dtype="<i8") for b in blobs]))


def remember_rows(engine: sa.Engine, table: str, hashes: np.ndarray, run_id: int) -> int:
    hashes = sorted_unique(hashes)
    if not len(hashes):
        return 0
    with engine.begin() as conn:
        conn.execute(source_rows.delete().where((source_rows.c.table_name == table) & (source_rows.c.run_id == run_id)))
        conn.execute(source_rows.insert().values(table_name=table, run_id=run_id, row_count=len(hashes),
                                                 hashes=hashes.tobytes()))
        # a year of nights leaves a year of small arrays: fold them into one now and then
        parts = conn.execute(sa.select(source_rows.c.hashes).where(source_rows.c.table_name == table)).scalars().all()
        if len(parts) > 60:
            merged = sorted_unique(np.concatenate([np.frombuffer(b, dtype="<i8") for b in parts]))
            conn.execute(source_rows.delete().where(source_rows.c.table_name == table))
            conn.execute(source_rows.insert().values(table_name=table, run_id=run_id, row_count=len(merged),
                                                     hashes=merged.tobytes()))
    return len(hashes)


def forget_rows(engine: sa.Engine) -> None:
    """A full run re-reads everything: start the fingerprints afresh."""
    with engine.begin() as conn:
        conn.execute(source_rows.delete())


class RunLockedError(RuntimeError):
    """Another run is writing this review database."""


def acquire_run_lock(engine: sa.Engine, label: str) -> None:
    """Take the database's run lock, or refuse with who holds it. A lock left by a dead process on this
    host is taken over; one held elsewhere is never broken automatically (``sanzi db unlock``)."""
    import socket

    host, pid = socket.gethostname(), os.getpid()
    with engine.begin() as conn:
        held = conn.execute(sa.select(run_lock).where(run_lock.c.name == "nightly")).first()
        if held is not None:
            if held.host == host and not _alive(held.pid):
                conn.execute(run_lock.delete().where(run_lock.c.name == "nightly", run_lock.c.pid == held.pid))
            else:
                raise RunLockedError(_held_message(held))
        # whoever holds the lock now is the only run: a row still 'running' is a run that died (kill -9, a lost
        # machine) without marking itself; it failed, and the overview must not show it as 运行中 forever
        conn.execute(runs.update().where(runs.c.status == "running").values(
            status="failed", finished_at=now(),
            message=f"运行中断（进程被终止或主机停止），由下一次运行（主机 {host} 进程 {pid}）于接管运行锁时标记为失败"))
    try:
        with engine.begin() as conn:
            conn.execute(run_lock.insert().values(name="nightly", run_label=label, host=host, pid=pid,
                                                  acquired_at=now()))
    except sa.exc.IntegrityError as exc:  # lost a race with a run that started at the same moment
        raise RunLockedError("另一次运行刚刚开始写入此审查库，本次运行已取消") from exc


def check_run_lock(engine: sa.Engine) -> None:
    """Refuse early (before any work starts) when a live run holds the lock."""
    import socket

    with engine.connect() as conn:
        held = conn.execute(sa.select(run_lock).where(run_lock.c.name == "nightly")).first()
    if held is not None and not (held.host == socket.gethostname() and not _alive(held.pid)):
        raise RunLockedError(_held_message(held))


def _held_message(held) -> str:
    return (f"另一次运行正在写入此审查库（{held.run_label}，主机 {held.host} 进程 {held.pid}，开始于 "
            f"{held.acquired_at} UTC）。请等待其结束；若确认它已终止，运行 sanzi db unlock --db URL")


def release_run_lock(engine: sa.Engine, force: bool = False) -> int:
    with engine.begin() as conn:
        q = run_lock.delete().where(run_lock.c.name == "nightly")
        if not force:
            q = q.where(run_lock.c.pid == os.getpid())
        return conn.execute(q).rowcount


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


DETECTION_FIELDS = ("detector", "detector_version", "case_id", "village_code", "township_code", "score",
                    "priority", "rank", "amount_at_risk", "title", "explanation", "details", "last_seen_run",
                    "updated_at")


def resolve_url(url: str | None) -> str:
    """--db, then SANZI_DB_URL, then a SQLite file in the working directory."""
    url = url or os.environ.get("SANZI_DB_URL")
    if not url:
        return f"sqlite:///{Path(DEFAULT_DB_FILE).resolve()}"
    if "://" not in url:  # a bare path means a SQLite file
        return f"sqlite:///{Path(url).resolve()}"
    return url


def data_docs_dir(url: str, run_id: int) -> Path | None:
    """Where a run's Data Docs go: next to a SQLite database file, else under $SANZI_DATA_DOCS (or
    ./data_docs) for a server database; None for an in-memory database."""
    base = os.environ.get("SANZI_DATA_DOCS")
    if not base:
        u = sa.engine.make_url(url)
        if u.get_backend_name() == "sqlite":
            if not u.database or u.database == ":memory:":
                return None
            base = str(Path(u.database).resolve().parent / "data_docs")
        else:
            base = str(Path("data_docs").resolve())
    return Path(base) / f"run-{run_id:05d}"


_ENGINES: dict[str, sa.Engine] = {}


def connect(url: str | None = None, check_schema: bool = True) -> sa.Engine:
    """One engine (and pool) per database URL per process.

    An empty database is initialised by the migrations; one at an older schema is refused with the command
    that upgrades it (``sanzi db upgrade``), never altered behind the operator's back.
    """
    from .migrate import ensure_schema

    url = resolve_url(url)
    engine = _ENGINES.get(url)
    if engine is None:
        engine = create_engine_for(url)
        if check_schema:
            try:
                ensure_schema(engine, safe_url(url))
            except BaseException:
                engine.dispose()  # a refused database must not leave pooled connections behind
                raise
        _ENGINES[url] = engine
    return engine


def dispose(url: str | None = None) -> None:
    """Close pooled connections: of one database, or of all when ``url`` is None."""
    urls = [resolve_url(url)] if url else list(_ENGINES)
    for u in urls:
        engine = _ENGINES.pop(u, None)
        if engine is not None:
            engine.dispose()


def create_engine_for(url: str) -> sa.Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers (the review page) never block the nightly run
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
    else:
        engine = sa.create_engine(url, pool_pre_ping=True)
    return engine


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


# ---- runs and quarantine -------------------------------------------------------------------------

def start_run(engine: sa.Engine, source: str, parameters: dict) -> int:
    with engine.begin() as conn:
        res = conn.execute(runs.insert().values(started_at=now(), status="running", source=source,
                                                parameters=json.dumps(parameters, ensure_ascii=False, default=str)))
        key = res.inserted_primary_key
        assert key is not None
        return int(key[0])


def finish_run(engine: sa.Engine, run_id: int, **values) -> None:
    for k in ("counts", "stages"):
        if k in values and not isinstance(values[k], str):
            values[k] = json.dumps(values[k], ensure_ascii=False)
    with engine.begin() as conn:
        conn.execute(runs.update().where(runs.c.run_id == run_id).values(finished_at=now(), **values))


def write_quarantine(engine: sa.Engine, run_id: int, rows: list[dict]) -> None:
    if not rows:
        return
    payload = [dict(run_id=run_id, table_name=r["table"], source_file=r["source_file"], source_row=r["source_row"],
                    source_sheet=r.get("source_sheet"), raw=r["raw"], reasons=json.dumps(r["reasons"], ensure_ascii=False)) for r in rows]
    with engine.begin() as conn:
        conn.execute(quarantine.insert(), payload)


# ---- warehouse -----------------------------------------------------------------------------------

def load_warehouse(engine: sa.Engine, table: str, rows: pd.DataFrame | Iterable[pd.DataFrame], run_id: int) -> int:
    """Upsert validated rows by their key, in one transaction; returns the number of rows written.

    ``rows`` is a frame or, to keep memory to one batch, an iterable of frames of the table (the background load
    streams Parquet row groups). Either way they are converted CHUNK_ROWS at a time."""
    t = TABLES[table]
    frames = [rows] if isinstance(rows, pd.DataFrame) else rows
    batches = (_warehouse_rows(t, df.iloc[i:i + CHUNK_ROWS], run_id)
               for df in frames for i in range(0, len(df), CHUNK_ROWS))
    cols = ["row_key", *t.column_names, "source_file", "source_row", "loaded_run", "source_sheet"]  # as _warehouse_rows
    if engine.dialect.name == "postgresql":
        return _copy_upsert(engine, WAREHOUSE[table], batches, cols)
    return _sqlite_upsert(engine, WAREHOUSE[table], batches, cols)


def _warehouse_rows(t: Table, df: pd.DataFrame, run_id: int) -> pd.DataFrame:
    out = pd.DataFrame({c: df[c] for c in t.column_names})
    out.insert(0, "row_key", _row_keys(t, df))
    out["source_file"] = df[FILE].to_numpy()
    out["source_row"] = df[ROW].to_numpy()
    out["loaded_run"] = run_id
    out["source_sheet"] = df[SHEET].to_numpy() if SHEET in df else None
    return out


def _row_keys(t: Table, df: pd.DataFrame) -> pd.Series:
    if len(t.unique_key) == 1:
        return df[t.unique_key[0]].astype("str")
    return df[list(t.unique_key)].fillna("").astype("str").agg("|".join, axis=1)


def _records(df: pd.DataFrame) -> list[tuple]:
    """Rows as Python tuples for PostgreSQL's COPY: dates as datetime.date, missing values as None."""
    cols = []
    for c in df.columns:
        s = df[c]
        if s.dtype.kind == "M":
            arr = s.dt.date
            arr = arr.astype("object").where(s.notna(), None)
        elif s.dtype.kind == "f":
            arr = s.astype("object").where(s.notna(), None)
        elif s.dtype.kind in "iu":
            arr = s.astype("object")
        else:
            arr = s.astype("object").where(s.notna(), None)
        cols.append(arr.to_numpy())
    return list(zip(*cols, strict=True)) if cols else []


CHUNK_ROWS = 100_000  # rows converted at once when loading (Arrow batches for SQLite, Python rows for COPY)


def _arrow_table(df: pd.DataFrame):
    """``df`` as an Arrow table typed as SQLite stores it: text, REAL, INTEGER, dates as 'YYYY-MM-DD' text (as
    SQLAlchemy writes a Date), and missing values (NaN, NaT, None) as NULL."""
    import pyarrow as pa

    arrays = []
    for c in df.columns:
        s = df[c]
        if s.dtype.kind == "M":  # a date32 prints as YYYY-MM-DD, a hundred times faster than strftime
            a = pa.array(s, from_pandas=True).cast(pa.date32(), safe=False).cast(pa.large_string())
        elif s.dtype.kind == "f":
            a = pa.array(s.to_numpy(), from_pandas=True)
        elif s.dtype.kind in "iu":
            a = pa.array(s.to_numpy(), type=pa.int64())
        else:
            a = pa.array(s, type=pa.large_string(), from_pandas=True)  # None and NaN become NULL
        arrays.append(a)
    return pa.table(arrays, names=list(df.columns))


def _sqlite_upsert(engine: sa.Engine, target: sa.Table, batches: Iterable[pd.DataFrame], cols: list[str]) -> int:
    """Stage the rows in a private SQLite file through ADBC, then upsert them with one INSERT … SELECT.

    ADBC's C loop binds the values (Python's sqlite3 executemany spends microseconds per value: 23 s for a
    million ledger lines, against 4 s staged). ADBC carries its own copy of the SQLite library, and two copies
    must never have one file open in the same process (closing it in one drops the other's POSIX locks: see
    "How To Corrupt An SQLite Database File", 2.2.1). So ADBC only ever opens the staging file, and has closed it
    before sqlite3 attaches it. The upsert is one transaction: the table gets all of the rows or none of them.
    """
    import adbc_driver_sqlite.dbapi as adbc

    pk = [c.name for c in target.primary_key.columns]
    quoted = ", ".join(f'"{c}"' for c in cols)
    sets = ", ".join(f'"{c}"=excluded."{c}"' for c in cols if c not in pk)
    db_file = Path(engine.url.database or "")
    stage = db_file.with_name(f".{db_file.name}.{target.name}.{os.getpid()}.stage")
    stage.unlink(missing_ok=True)
    # A first load of many rows into an empty table builds the secondary indexes once at the end instead of row by
    # row. They are dropped and rebuilt in their own committed steps, and rebuilt even when the load fails, so the
    # table is never left without them.
    indexes: list[sa.Index] = []
    try:
        rows = 0
        with adbc.connect(str(stage)) as conn:
            with conn.cursor() as cur:
                for batch in batches:
                    cur.adbc_ingest("rows", _arrow_table(batch), mode="append" if rows else "create")
                    rows += len(batch)
            conn.commit()
        if not rows:
            return 0
        with engine.connect() as conn:
            empty = conn.execute(sa.text(f'SELECT 1 FROM "{target.name}" LIMIT 1')).first() is None
        if empty and rows >= CHUNK_ROWS:
            indexes = list(target.indexes)
            with engine.begin() as conn:
                for ix in indexes:
                    conn.execute(sa.text(f'DROP INDEX IF EXISTS "{ix.name}"'))
        with engine.connect() as conn:
            # pysqlite begins its transaction at the INSERT, so ATTACH and DETACH run outside it, as they must
            conn.exec_driver_sql("ATTACH DATABASE ? AS stage", (str(stage),))
            try:
                conn.exec_driver_sql(f'INSERT INTO main."{target.name}" ({quoted}) SELECT {quoted} FROM stage.rows '
                                     f'WHERE true ON CONFLICT ({", ".join(pk)}) DO UPDATE SET {sets}')
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                conn.exec_driver_sql("DETACH DATABASE stage")
                conn.commit()
    finally:
        stage.unlink(missing_ok=True)
        if indexes:
            with engine.begin() as conn:
                for ix in indexes:
                    cols_ = ", ".join(f'"{c.name}"' for c in ix.columns)
                    conn.execute(sa.text(f'CREATE INDEX IF NOT EXISTS "{ix.name}" ON "{target.name}" ({cols_})'))
    return rows


def _copy_upsert(engine: sa.Engine, target: sa.Table, batches: Iterable[pd.DataFrame], cols: list[str]) -> int:
    pk = [c.name for c in target.primary_key.columns]
    quoted = ", ".join(f'"{c}"' for c in cols)
    sets = ", ".join(f'"{c}"=excluded."{c}"' for c in cols if c not in pk)
    rows = 0
    with engine.begin() as conn:
        raw: Any = conn.connection.driver_connection  # psycopg's connection: COPY needs the driver's cursor
        with raw.cursor() as cur:
            cur.execute(f'CREATE TEMP TABLE _stage (LIKE "{target.name}" INCLUDING DEFAULTS) ON COMMIT DROP')
            with cur.copy(f"COPY _stage ({quoted}) FROM STDIN") as copy:
                for batch in batches:
                    for r in _records(batch):
                        copy.write_row(r)
                    rows += len(batch)
            if rows:
                cur.execute(f'INSERT INTO "{target.name}" ({quoted}) SELECT {quoted} FROM _stage '
                            f'ON CONFLICT ({", ".join(pk)}) DO UPDATE SET {sets}')
    return rows


def read_warehouse(engine: sa.Engine, table: str, villages: Iterable[str] | None = None,
                   exclude_run: int | None = None) -> pd.DataFrame:
    """The validated history of one table, typed like the validate stage's output.

    ``exclude_run`` leaves out rows (re)loaded by that run: the caller already holds them in memory.
    """
    t = TABLES[table]
    target = WAREHOUSE[table]
    cols = ", ".join(f'"{c}"' for c in t.column_names)
    sql = f'SELECT {cols} FROM "{target.name}" WHERE 1=1'
    params: dict = {}
    if exclude_run is not None:
        sql += " AND loaded_run <> :run"
        params["run"] = exclude_run
    if villages is not None:
        vs = sorted(set(villages))
        if not vs:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in t.column_names})
        sql += " AND village_code IN (" + ", ".join(f":v{i}" for i in range(len(vs))) + ")"
        params.update({f"v{i}": v for i, v in enumerate(vs)})
    with engine.connect() as conn:
        df = pd.read_sql_query(sa.text(sql), conn, params=params)
    for c in t.columns:
        if c.kind == "date":
            df[c.name] = pd.to_datetime(df[c.name], errors="coerce").astype("datetime64[us]")
        elif c.kind in ("amount", "number"):
            df[c.name] = pd.to_numeric(df[c.name], errors="coerce").astype("float64")
        else:
            df[c.name] = df[c.name].astype("str").where(df[c.name].notna(), np.nan)
    return df


def table_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for name, t in WAREHOUSE.items()}


# ---- columnar snapshot of the warehouse ----------------------------------------------------------
# Detection reads the whole history every night. Reading a million rows back out of SQLite costs 10-20 s in
# Python objects; a Parquet snapshot of the warehouse as the last run left it reads in about a second. The
# snapshot is only a cache: it is used when it provably matches the database (same last run, same row count
# once tonight's replacements are taken out) and rebuilt from the database otherwise.

def snapshot_dir(url: str) -> Path | None:
    """Next to a SQLite database (<db>.snapshot/); for other databases $SANZI_SNAPSHOT_DIR, or none."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///") + ".snapshot")
    env = os.environ.get("SANZI_SNAPSHOT_DIR")
    return Path(env) if env else None


def _snapshot_files(url: str, table: str) -> tuple[Path, Path] | None:
    d = snapshot_dir(url)
    return None if d is None else (d / f"wh_{table}.parquet", d / f"wh_{table}.json")


def _warehouse_state(engine: sa.Engine, table: str) -> dict:
    """What a snapshot of ``table`` must match: the last run that loaded rows and the row count."""
    t = WAREHOUSE[table]
    with engine.connect() as conn:
        last, n = conn.execute(sa.select(sa.func.max(t.c.loaded_run), sa.func.count()).select_from(t)).one()
    return {"last_run": last, "rows": n}


def _snapshot_state(files: tuple[Path, Path]) -> dict | None:
    try:
        return json.loads(files[1].read_text(encoding="utf-8")) if files[0].exists() else None
    except (OSError, ValueError):
        return None


def contiguous(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every Arrow-backed column in one chunk, a column at a time, in place.

    Parquet hands back a chunk per row group (27 for a 1,000-village ledger). pyarrow 26 resolves each row of a
    ``take`` on a chunked array to its chunk, and the cost per row grows with the number of chunks: taking 2M of
    3.5M summaries costs 0.17 s on 27 chunks and 0.025 s on one. Detection takes rows from every column many
    times over, so history goes into it in one piece.
    """
    for name in frame.columns:
        arr = frame[name].array
        if isinstance(arr, pd.arrays.ArrowExtensionArray) and arr._pa_array.num_chunks > 1:
            frame[name] = arr.dtype.__from_arrow__(arr._pa_array.combine_chunks())  # same dtype, one chunk
    return frame


def read_history(engine: sa.Engine, url: str, table: str, exclude_run: int | None = None) -> pd.DataFrame:
    """The warehouse rows of ``table``: from the snapshot when the warehouse is still in the state the snapshot
    recorded (so read history before tonight's load), else from the database, leaving out ``exclude_run``."""
    files = _snapshot_files(url, table)
    if files is not None and (state := _snapshot_state(files)) is not None:
        try:
            if state == _warehouse_state(engine, table):
                return pd.read_parquet(files[0])
            log.info("warehouse snapshot of %s is stale: reading the database", table)
        except Exception as exc:  # a damaged cache is never a reason to fail a run
            log.warning("warehouse snapshot of %s unreadable (%s): reading the database", table, exc)
    return read_warehouse(engine, table, exclude_run=exclude_run)


def write_snapshot(engine: sa.Engine, url: str, table: str, frame: pd.DataFrame) -> None:
    """Store ``frame`` as the warehouse's state after tonight's load (tonight's rows plus history), for the
    next night; nothing is written when it is not that state (a limited run) or the snapshot is already it."""
    files = _snapshot_files(url, table)
    if files is None:
        return
    state = _warehouse_state(engine, table)
    if state["rows"] != len(frame):
        files[1].unlink(missing_ok=True)
        return
    if _snapshot_state(files) == state:
        return  # nothing was loaded since
    files[0].parent.mkdir(parents=True, exist_ok=True)
    tmp = files[0].with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(files[0])
    files[1].write_text(json.dumps(state), encoding="utf-8")
