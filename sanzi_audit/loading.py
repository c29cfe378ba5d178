"""Loading tonight's rows into the warehouse, in a process of its own when there are many."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from . import store
from .validate import Validated


def load(engine: sa.Engine, validated: dict[str, Validated], run_id: int) -> dict[str, int]:
    return load_frames(engine, {name: v.clean for name, v in validated.items()},
                       [q for v in validated.values() for q in v.quarantine], run_id)


def load_frames(engine: sa.Engine, frames: dict[str, pd.DataFrame | Iterable[pd.DataFrame]], quarantine: list[dict],
                run_id: int) -> dict[str, int]:
    written = {name: store.load_warehouse(engine, name, df, run_id) for name, df in frames.items()}
    store.write_quarantine(engine, run_id, quarantine)
    return written


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
