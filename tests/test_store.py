"""The review database on SQLite and PostgreSQL: idempotent loads, review fields that survive a run."""

import pandas as pd
import pytest
import sqlalchemy as sa

from sanzi_audit import pipeline, store
from sanzi_audit.sources import extract


def test_reloading_the_same_files_never_duplicates(db_url, small_county):
    engine = store.connect(db_url)
    validated = pipeline.validate_all(extract(small_county))
    for run in (1, 2):
        pipeline.load(engine, validated, run)
    counts = store.table_counts(engine)
    for name, v in validated.items():
        assert counts[name] == v.rows_loaded, name
    back = store.read_warehouse(engine, "ledger")
    orig = validated["ledger"].clean
    # the database returns rows in no set order, and float sums depend on order: compare to the cent
    assert round(back["debit"].sum(), 2) == round(orig["debit"].sum(), 2)
    by_id = back.set_index("entry_id")["debit"].sort_index()
    assert (by_id.fillna(-1) == orig.set_index("entry_id")["debit"].sort_index().fillna(-1)).all()
    assert back["entry_date"].min() == orig["entry_date"].min()
    assert set(back["entry_id"]) == set(orig["entry_id"])


def _ranked(ids, score=0.5, title="疑点"):
    return pd.DataFrame([dict(lead_id=i, detector="split_contracts", case_id="C-" + i, village_code="330599101200",
                              township_code="330599101", score=score, priority=score, rank=n + 1, amount_at_risk=1000.0,
                              title=title, explanation="说明", details="{}", evidence=[("ledger", f"e-{i}")])
                         for n, i in enumerate(ids)])


def test_publish_keeps_review_fields_and_reports_new_vs_updated(db_url):
    engine = store.connect(db_url)
    res = pipeline.publish(engine, _ranked(["a", "b"]), 1)
    assert (res.new, res.updated) == (2, 0)
    with engine.begin() as c:
        c.execute(store.leads.update().where(store.leads.c.lead_id == "a").values(status="dismissed", assignee="李审计"))
    res = pipeline.publish(engine, _ranked(["a", "c"], score=0.9, title="新标题"), 2)
    assert (res.new, res.updated) == (1, 1)
    with engine.connect() as c:
        rows = {r.lead_id: r for r in c.execute(sa.select(store.leads))}
        events = c.execute(sa.select(store.lead_events.c.lead_id, store.lead_events.c.event)).all()
    assert rows["a"].status == "dismissed" and rows["a"].assignee == "李审计"
    assert rows["a"].score == 0.9 and rows["a"].title == "新标题" and rows["a"].first_seen_run == 1
    assert rows["a"].last_seen_run == 2
    assert rows["b"].rank is None and rows["b"].status == "new"  # not seen tonight: kept, out of the queue
    assert sorted(events) == [("a", "created"), ("b", "created"), ("c", "created")]


def test_sqlite_path_and_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SANZI_DB_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert store.resolve_url(None).endswith("x.db")
    assert store.resolve_url(str(tmp_path / "y.db")).startswith("sqlite:///")


def test_row_fingerprints_are_remembered_and_folded(tmp_path):
    import numpy as np

    from sanzi_audit import store

    engine = store.connect(f"sqlite:///{tmp_path / 'r.db'}")
    for run in range(1, 70):
        store.remember_rows(engine, "ledger", np.array([run, run + 1000, -run], dtype=np.int64), run)
    known = store.known_rows(engine, "ledger")
    assert len(known) == 69 * 3 and (np.diff(known) > 0).all() and -5 in known
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(store.source_rows)).scalar() <= 61
    assert len(store.known_rows(engine, "claims")) == 0
    store.forget_rows(engine)
    assert len(store.known_rows(engine, "ledger")) == 0


def test_fingerprints_of_another_scheme_never_match_and_are_dropped(tmp_path):
    """After the hash changes (a Polars upgrade, or the pandas hash of databases before revision 0018), no row
    may be skipped on a fingerprint computed another way: every row is processed once again."""
    import numpy as np

    from sanzi_audit import incremental, store

    engine = store.connect(f"sqlite:///{tmp_path / 'r.db'}")
    store.remember_rows(engine, "ledger", np.array([1, 2, 3], dtype=np.int64), 1)  # scheme NULL: the old hash
    assert len(store.known_rows(engine, "ledger", incremental.SCHEME)) == 0
    assert list(store.known_rows(engine, "ledger")) == [1, 2, 3]
    store.remember_rows(engine, "ledger", np.array([7], dtype=np.int64), 2, incremental.SCHEME)
    assert list(store.known_rows(engine, "ledger", incremental.SCHEME)) == [7]
    assert len(store.known_rows(engine, "ledger")) == 0  # the old scheme's rows are gone


def test_a_bulk_first_load_rebuilds_its_indexes_even_when_it_fails(tmp_path, small_county, monkeypatch):
    from sanzi_audit.pipeline import validate_all

    engine = store.connect(f"sqlite:///{tmp_path / 'r.db'}")
    ledger = validate_all(extract(small_county))["ledger"].clean

    def indexes():
        with engine.connect() as c:
            return sorted(r[0] for r in c.execute(sa.text(
                "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='wh_ledger' AND name LIKE 'ix_%'")))

    before = indexes()
    assert before
    monkeypatch.setattr(store, "CHUNK_ROWS", 100)
    real = store._arrow_table
    calls = []

    def broken(df):
        calls.append(len(df))
        if len(calls) == 4:
            raise RuntimeError("disk full")
        return real(df)

    monkeypatch.setattr(store, "_arrow_table", broken)
    with pytest.raises(RuntimeError, match="disk full"):  # fails while staging
        store.load_warehouse(engine, "ledger", ledger, 1)
    monkeypatch.setattr(store, "_arrow_table", real)
    with engine.begin() as c:  # the database fails half-way through the upsert, after the indexes were dropped
        c.execute(sa.text("CREATE TRIGGER fail AFTER INSERT ON wh_ledger WHEN NEW.rowid > 300 "
                          "BEGIN SELECT RAISE(ABORT, 'disk full'); END"))
    with pytest.raises(sa.exc.IntegrityError, match="disk full"):
        store.load_warehouse(engine, "ledger", ledger, 1)
    assert indexes() == before
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM wh_ledger")).scalar() == 0  # all or nothing
    assert not list(tmp_path.glob(".*.stage"))  # the staging files are gone
    with engine.begin() as c:
        c.execute(sa.text("DROP TRIGGER fail"))
    assert store.load_warehouse(engine, "ledger", ledger, 1) == len(ledger)
    assert indexes() == before


def test_fingerprint_set_helpers_agree_with_numpy():
    import numpy as np

    rng = np.random.default_rng(3)
    a = rng.integers(-50, 50, 1000, dtype=np.int64)
    known = store.sorted_unique(a)
    assert known.tolist() == np.unique(a).tolist()
    probe = rng.integers(-80, 80, 500, dtype=np.int64)
    seen = store.is_known(probe, known)
    assert seen.tolist() == np.isin(probe, a).tolist() and seen.flags.writeable
    assert not store.is_known(probe, store.sorted_unique(np.zeros(0, dtype=np.int64))).any()


def test_history_from_a_snapshot_goes_to_detection_in_one_chunk(tmp_path):
    """Parquet returns a chunk per row group; detection takes rows from history many times, and pyarrow's take
    costs more per row the more chunks there are. contiguous() joins them without changing a value or a dtype."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = pd.DataFrame({"name": pd.array(["张三", None, "李四", "王五"] * 50, dtype="str"),
                       "amount": [1.5, float("nan"), 3.0, 4.0] * 50,
                       "day": pd.to_datetime(["2024-01-02"] * 200).astype("datetime64[us]")})
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp_path / "h.parquet", row_group_size=30)
    read = pd.read_parquet(tmp_path / "h.parquet")
    assert read["name"].array._pa_array.num_chunks > 1
    before = read.copy()
    out = store.contiguous(read)
    assert out["name"].array._pa_array.num_chunks == 1
    assert out.dtypes.equals(before.dtypes) and out.equals(before)
    assert out["name"].isna().sum() == 50 and out["name"].dtype.na_value is before["name"].dtype.na_value
