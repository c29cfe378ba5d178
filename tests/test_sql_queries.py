"""Every hand-run review query in sql/ runs on both databases against a real published run."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from sanzi_audit import pipeline, store
from sanzi_audit.config import load_config
from sanzi_audit.sources import extract

SQL = sorted((Path(__file__).parent.parent / "sql").glob("*.sql"))


@pytest.fixture
def published(db_url, small_county):
    engine = store.connect(db_url)
    cfg = load_config()
    run_id = store.start_run(engine, str(small_county), {})
    validated = pipeline.validate_all(extract(small_county))
    pipeline.load(engine, validated, run_id)
    leads, _ = pipeline.detect(pipeline.detector_input(engine, validated, run_id, cfg), cfg)
    ranked = pipeline.rank(leads, cfg)
    pipeline.publish(engine, ranked, run_id)
    store.finish_run(engine, run_id, status="success", counts=[c.__dict__ for c in pipeline.counts_of(validated)])
    return engine, ranked


def test_there_are_queries():
    assert {p.name for p in SQL} >= {"open_queue_by_township.sql", "run_reconciliation.sql",
                                     "quarantine_by_reason.sql", "lead_evidence.sql"}


@pytest.mark.parametrize("path", SQL, ids=[p.name for p in SQL])
def test_query_runs(published, path):
    engine, ranked = published
    text = path.read_text(encoding="utf-8")
    assert text.startswith("--"), "each query starts with its description"
    lead = next(r.lead_id for r in ranked.itertuples() if any(t == "ledger" for t, _ in r.evidence))
    with engine.connect() as c:
        rows = c.execute(sa.text(text), {"lead_id": lead} if ":lead_id" in text else {}).all()
    if path.name in ("open_queue_by_township.sql", "run_reconciliation.sql", "lead_evidence.sql"):
        assert rows, path.name
    if path.name == "open_queue_by_township.sql":
        assert sum(r.open_leads for r in rows) == len(ranked)
