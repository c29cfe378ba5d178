"""The review database: engines and URLs, runs and quarantine, the warehouse load and read, row fingerprints.

The tables are declared in ``schema``, the run lock is ``runlock``, the Parquet snapshot of the warehouse is
``snapshot``; their names are re-exported here, so callers keep writing ``store.leads`` or
``store.acquire_run_lock``. One schema serves the pipeline and the review page. SQLite is the embedded default;
PostgreSQL is production. Bulk writes take each dialect's fast path (SQLite: Arrow batches through ADBC into a staging
file; PostgreSQL: COPY into a temporary table) and upsert from there on the record key, so reloading the same file
never duplicates rows.
"""

from __future__ import annotations

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
from .runlock import (  # noqa: F401  (re-exported: callers use store.X)
    RunLockedError,
    acquire_run_lock,
    check_run_lock,
    release_run_lock,
)
from .schema import (  # noqa: F401  (re-exported: callers use store.X)
    STATUS_LABELS,
    WAREHOUSE,
    access_log,
    detector_carry,
    lead_events,
    lead_evidence,
    leads,
    metadata,
    now,
    places,
    quarantine,
    run_detectors,
    run_lock,
    runs,
    sessions,
    sign_in_failures,
    source_rows,
    users,
)
from .snapshot import (  # noqa: F401  (re-exported: callers use store.X)
    contiguous,
    read_history,
    snapshot_dir,
    write_snapshot,
)
from .sources import FILE, ROW, SHEET, safe_url

DEFAULT_DB_FILE = "sanzi.db"
log = logging.getLogger(__name__)


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


def known_rows(engine: sa.Engine, table: str, scheme: str | None = None) -> np.ndarray:
    """The fingerprints remembered for ``table`` under ``scheme``, as a sorted int64 array."""
    with engine.connect() as conn:
        blobs = conn.execute(sa.select(source_rows.c.hashes).where(
            source_rows.c.table_name == table, _scheme_is(scheme))).scalars().all()
    if not blobs:
        return np.zeros(0, dtype=np.int64)
    return sorted_unique(np.concatenate([np.frombuffer(b, dtype="<i8") for b in blobs]))


def _scheme_is(scheme: str | None):
    return source_rows.c.scheme.is_(None) if scheme is None else source_rows.c.scheme == scheme


def remember_rows(engine: sa.Engine, table: str, hashes: np.ndarray, run_id: int, scheme: str | None = None) -> int:
    hashes = sorted_unique(hashes)
    if not len(hashes):
        return 0
    mine = (source_rows.c.table_name == table) & _scheme_is(scheme)
    with engine.begin() as conn:
        # fingerprints of another scheme can never match again
        other = (source_rows.c.scheme.is_not(None) if scheme is None
                 else sa.or_(source_rows.c.scheme.is_(None), source_rows.c.scheme != scheme))
        conn.execute(source_rows.delete().where((source_rows.c.table_name == table) & other))
        conn.execute(source_rows.delete().where(mine & (source_rows.c.run_id == run_id)))
        conn.execute(source_rows.insert().values(table_name=table, run_id=run_id, row_count=len(hashes),
                                                 hashes=hashes.tobytes(), scheme=scheme))
        # a year of nights leaves a year of small arrays: fold them into one now and then
        parts = conn.execute(sa.select(source_rows.c.hashes).where(mine)).scalars().all()
        if len(parts) > 60:
            merged = sorted_unique(np.concatenate([np.frombuffer(b, dtype="<i8") for b in parts]))
            conn.execute(source_rows.delete().where(mine))
            conn.execute(source_rows.insert().values(table_name=table, run_id=run_id, row_count=len(merged),
                                                     hashes=merged.tobytes(), scheme=scheme))
    return len(hashes)


def forget_rows(engine: sa.Engine) -> None:
    """A full run re-reads everything: start the fingerprints afresh."""
    with engine.begin() as conn:
        conn.execute(source_rows.delete())


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
