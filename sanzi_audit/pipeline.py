"""The nightly stages as plain functions: extract → validate → load → detect → rank → publish → report.

flows/nightly.py wraps each in a Prefect task; tests call these directly.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from . import store
from .config import Config
from .contract import TABLES
from .detectors.base import DetectorInput
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
    stages: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=str)


# ---- validate ------------------------------------------------------------------------------------

def validate_all(ex: Extract) -> dict[str, Validated]:
    return {name: validate_table(raw) for name, raw in ex.tables.items()}


def counts_of(validated: dict[str, Validated]) -> list[TableCount]:
    out = []
    for name in TABLES:
        v = validated.get(name)
        if v is None:
            continue
        assert v.rows_read == v.rows_loaded + v.rows_quarantined, f"{name}: rows lost in validation"
        out.append(TableCount(name, v.file, v.rows_read, v.rows_loaded, v.rows_quarantined, len(v.warnings)))
    return out


def quarantine_examples(validated: dict[str, Validated], per_table: int = 5) -> list[str]:
    out = []
    for name in TABLES:
        v = validated.get(name)
        if v is None:
            continue
        for q in v.quarantine[:per_table]:
            why = "；".join(f"{r['column'] or '整行'}: {r['message']}" for r in q["reasons"])
            out.append(f"{Path(q['source_file']).name} 第 {q['source_row']} 行 {why}")
        if len(v.quarantine) > per_table:
            out.append(f"{Path(v.file).name} 另有 {len(v.quarantine) - per_table} 行被隔离（见 quarantine 表）")
    return out


# ---- load ----------------------------------------------------------------------------------------

def load(engine: sa.Engine, validated: dict[str, Validated], run_id: int) -> dict[str, int]:
    written = {}
    quarantined = []
    for name, v in validated.items():
        written[name] = store.load_warehouse(engine, name, v.clean, run_id)
        quarantined.extend(v.quarantine)
    store.write_quarantine(engine, run_id, quarantined)
    return written


# ---- detect --------------------------------------------------------------------------------------

def detector_input(engine: sa.Engine, validated: dict[str, Validated], run_id: int, config: Config) -> DetectorInput:
    """Tonight's validated rows plus the warehouse history they did not replace."""
    tables: dict[str, pd.DataFrame] = {}
    for name, t in TABLES.items():
        tonight = validated[name].clean[t.column_names] if name in validated else None
        history = store.read_warehouse(engine, name, exclude_run=run_id)
        parts = [x for x in (tonight, history) if x is not None and len(x)]
        if not parts:
            if tonight is not None:
                tables[name] = tonight
            continue
        tables[name] = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    return DetectorInput(tables, config)


def detect(data: DetectorInput, config: Config):
    return run_detectors(data, config)


# ---- publish -------------------------------------------------------------------------------------

def publish(engine: sa.Engine, ranked: pd.DataFrame, run_id: int) -> tuple[int, int]:
    """Write tonight's ranked leads in one transaction; review fields are never touched.

    Returns (new, updated). Leads not seen tonight keep their rows and review state; their rank is cleared
    so the queue shows only current leads in order.
    """
    ts = store.now()
    with engine.begin() as conn:
        existing = set(conn.execute(sa.select(store.leads.c.lead_id)).scalars())
        rows = []
        evidence = []
        for r in ranked.itertuples(index=False):
            rows.append(dict(lead_id=r.lead_id, detector=r.detector, detector_version=None, case_id=r.case_id,
                             village_code=r.village_code, township_code=r.township_code, score=float(r.score),
                             priority=float(r.priority), rank=int(r.rank), amount_at_risk=float(r.amount_at_risk),
                             title=r.title, explanation=r.explanation, details=r.details, status="new",
                             first_seen_run=run_id, last_seen_run=run_id, created_at=ts, updated_at=ts))
            evidence.extend(dict(lead_id=r.lead_id, source_table=t, record_id=str(i)) for t, i in r.evidence)
        conn.execute(store.leads.update().where(store.leads.c.last_seen_run < run_id).values(rank=None))
        if rows:
            ins = _insert(conn, store.leads)
            stmt = ins.on_conflict_do_update(
                index_elements=["lead_id"],
                set_={c: getattr(ins.excluded, c) for c in store.DETECTION_FIELDS if c != "detector_version"})
            for i in range(0, len(rows), 5000):
                conn.execute(stmt, rows[i:i + 5000])
        if evidence:
            ev = _insert(conn, store.lead_evidence).on_conflict_do_nothing()
            for i in range(0, len(evidence), 20000):
                conn.execute(ev, evidence[i:i + 20000])
        new_ids = [r["lead_id"] for r in rows if r["lead_id"] not in existing]
        if new_ids:
            conn.execute(store.lead_events.insert(), [
                dict(lead_id=x, at=ts, actor="pipeline", event="created", from_status=None, to_status="new",
                     note=f"第 {run_id} 次运行发现") for x in new_ids])
    return len(new_ids), len(rows) - len(new_ids)


def _insert(conn, table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def rank(leads, config: Config) -> pd.DataFrame:
    return rank_leads(leads, config)


def parameters_of(config: Config, source: str) -> dict:
    """Everything that decides tonight's leads, stored with the run for traceability."""
    return {"source": source, "config": config.model_dump(mode="json"),
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
