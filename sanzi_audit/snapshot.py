"""A columnar snapshot of the warehouse for the next night's history.

Detection reads the whole history every night. Reading a million rows back out of SQLite costs 10-20 s in Python
objects; a Parquet snapshot of the warehouse as the last run left it reads in about a second. The snapshot is only
a cache: it is used when it provably matches the database (same last run, same row count once tonight's
replacements are taken out) and rebuilt from the database otherwise."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from .schema import WAREHOUSE

log = logging.getLogger(__name__)


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
    from .store import read_warehouse  # the database itself (store imports this module)

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
