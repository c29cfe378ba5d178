"""End to end: a small county through the real Prefect flow into the review table, then eval and the CLI."""

import json
import subprocess
import sys

import pandas as pd
import pytest
import sqlalchemy as sa

from sanzi_audit import store
from sanzi_audit.evaluate import evaluate


@pytest.fixture(scope="module")
def nightly_db(tmp_path_factory, small_county_messy, prefect_harness):
    from sanzi_audit.flows.nightly import nightly

    db = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'review.db'}"
    first = nightly(source=str(small_county_messy), db=db)
    second = nightly(source=str(small_county_messy), db=db)
    return db, first, second


def test_flow_fills_the_review_table(nightly_db):
    db, first, second = nightly_db
    assert first.status == "success" and first.leads_total > 0 and first.leads_new == first.leads_total
    assert second.leads_new == 0 and second.leads_updated == first.leads_total  # same data: same leads
    engine = store.connect(db)
    with engine.connect() as c:
        leads = pd.read_sql_query(sa.text("SELECT * FROM leads WHERE rank IS NOT NULL ORDER BY rank"), c)
        runs = pd.read_sql_query(sa.text("SELECT * FROM runs ORDER BY run_id"), c)
        ev = pd.read_sql_query(sa.text("SELECT * FROM lead_evidence"), c)
    assert list(leads["rank"]) == list(range(1, len(leads) + 1))
    assert leads["score"].between(0, 1).all() and leads["title"].str.contains("疑点").all()
    assert set(ev["source_table"]) <= {"ledger", "contracts", "claims", "residents", "officials"}
    assert set(ev["lead_id"]) == set(pd.read_sql_query(sa.text("SELECT lead_id FROM leads"), engine)["lead_id"])
    assert list(runs["status"]) == ["success", "success"]
    counts = json.loads(runs["counts"].iloc[0])
    assert all(c["read"] == c["loaded"] + c["quarantined"] for c in counts)
    assert json.loads(runs["parameters"].iloc[0])["config"]["thresholds"]["tender_limit"]["工程"] == 100000


def test_eval_reports_recall_for_split_contracts(nightly_db, small_result):
    db, *_ = nightly_db
    report = evaluate(store.connect(db), small_result.truth, [10, 50], baseline=True)
    by = {t.fraud_type: t for t in report.types}
    assert by["split_contract"].injected > 0 and by["split_contract"].recall == 1.0
    assert by["duplicate_payment"].recall == 1.0
    assert report.precision_at[10] >= 0.7
    assert report.baseline_precision_at[10] < report.precision_at[10]


def test_cli_fatal_errors_are_clear(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sanzi_audit.cli", "run", "--source", str(tmp_path / "missing"),
                        "--db", str(tmp_path / "x.db")], capture_output=True, text=True)
    assert r.returncode == 2 and "数据源目录不存在" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("thresholds: {cash_payment_limit: 0}\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "sanzi_audit.cli", "run", "--source", str(tmp_path), "--config", str(bad),
                        "--db", str(tmp_path / "x.db")], capture_output=True, text=True)
    assert r.returncode == 2 and "cash_payment_limit" in r.stderr and "Traceback" not in r.stderr


def test_cli_leads_and_eval(nightly_db, small_county_messy):
    db, *_ = nightly_db
    r = subprocess.run([sys.executable, "-m", "sanzi_audit.cli", "leads", "--db", db, "--top", "5"],
                       capture_output=True, text=True, check=True)
    assert "排名" in r.stdout and "疑点" in r.stdout
    r = subprocess.run([sys.executable, "-m", "sanzi_audit.cli", "eval", "--db", db, "--truth",
                        str(small_county_messy / "_truth" / "truth.csv"), "--k", "10"], capture_output=True, text=True, check=True)
    assert "split_contract" in r.stdout and "precision@K" in r.stdout


def test_honest_lookalikes_stay_quiet(nightly_db, small_result):
    db, *_ = nightly_db
    look = small_result.lookalikes
    with store.connect(db).connect() as c:
        ev = pd.read_sql_query(sa.text("SELECT l.detector, e.lead_id, e.source_table, e.record_id FROM lead_evidence e "
                                       "JOIN leads l ON l.lead_id = e.lead_id WHERE l.rank IS NOT NULL"), c)
    # two honest jobs of one vendor half a year apart are never put in one split lead
    pairs = look[look["kind"] == "split_lookalike"].groupby("village_code")["record_id"].agg(set)
    split = ev[ev["detector"] == "split_contracts"].groupby("lead_id")["record_id"].agg(set)
    assert len(pairs) and not any(p <= s for p in pairs for s in split)
    # a villager who shares a cadre relative's name, with another ID, is not a relative
    namesakes = set(look.loc[look["kind"] == "namesake", "record_id"])
    assert namesakes and not namesakes & set(ev.loc[ev["detector"] == "related_party_payees", "record_id"])


def test_a_run_that_dies_is_marked_failed_and_leaves_the_leads_and_no_lock(nightly_db, small_county_messy,
                                                                            monkeypatch):
    from sanzi_audit import pipeline
    from sanzi_audit.flows.nightly import nightly

    db, *_ = nightly_db
    engine = store.connect(db)
    q = sa.text("SELECT lead_id, rank, status, score FROM leads ORDER BY lead_id")
    before = pd.read_sql_query(q, engine)

    def killed(*a, **k):
        raise RuntimeError("worker killed during publish")

    monkeypatch.setattr(pipeline, "publish", killed)
    with pytest.raises(RuntimeError, match="worker killed"):
        nightly(source=str(small_county_messy), db=db)
    with engine.connect() as c:
        last = c.execute(sa.text("SELECT status, message FROM runs ORDER BY run_id DESC LIMIT 1")).one()
        lock = c.execute(sa.text("SELECT count(*) FROM run_lock")).scalar()
    assert last.status == "failed" and "worker killed" in last.message
    assert lock == 0
    pd.testing.assert_frame_equal(pd.read_sql_query(q, engine), before)


def test_every_published_lead_carries_its_detectors_version(nightly_db):
    import sqlalchemy as sa

    from sanzi_audit.registry import load_detectors

    versions = {name: str(cls.version) for name, cls in load_detectors().items()}
    with sa.create_engine(nightly_db[0]).connect() as c:
        rows = c.execute(sa.text("SELECT detector, detector_version FROM leads")).all()
    assert rows and all(ver for _, ver in rows)
    assert all(ver == versions[det] for det, ver in rows if det in versions)


def test_each_run_stores_one_row_per_detector(nightly_db):
    import json

    import sqlalchemy as sa

    from sanzi_audit.registry import load_detectors

    with sa.create_engine(nightly_db[0]).connect() as c:
        rows = c.execute(sa.text("SELECT run_id, detector, version, status, leads, seconds, params FROM run_detectors "
                                 "WHERE run_id = (SELECT max(run_id) FROM runs WHERE status = 'success')")).all()
    assert {r.detector for r in rows} == set(load_detectors())
    ran = [r for r in rows if r.status == "ran"]
    assert ran and all(r.version and r.seconds is not None and isinstance(json.loads(r.params), dict) for r in ran)
