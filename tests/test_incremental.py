"""Incremental nights: rows loaded cleanly before are skipped as unchanged (their fingerprints are remembered),
a changed line brings back its whole voucher, detection still sees the whole history, and --full starts afresh."""

import shutil

import pandas as pd
import sqlalchemy as sa

from sanzi_audit import pipeline, store
from sanzi_audit.config import load_config


def _leads(db):
    with store.connect(db).connect() as c:
        return dict(c.execute(sa.text("SELECT lead_id, status FROM leads WHERE rank IS NOT NULL")).all())


def test_incremental_nights(tmp_path, small_county, db_url, prefect_harness):
    from sanzi_audit.flows.nightly import nightly

    src = tmp_path / "src"
    shutil.copytree(small_county, src)
    first = nightly(source=str(src), db=db_url)
    counts = {c.table: c for c in first.counts}
    assert first.status == "success" and all(c.unchanged == 0 for c in counts.values())
    leads = _leads(db_url)
    assert leads

    # 1. the same exports again: nothing is processed, the same leads stand, none is resolved by absence
    second = nightly(source=str(src), db=db_url)
    c2 = {c.table: c for c in second.counts}
    assert all(c.read == 0 and c.unchanged == counts[t].read for t, c in c2.items())
    assert second.leads_new == 0 and second.leads_resolved == 0 and _leads(db_url) == leads
    assert "validate" in second.stages and second.stages["validate"] < 1.0  # no GX import on an empty night

    # 2. one ledger line corrected and one voucher added: the corrected voucher comes back whole
    led = pd.read_csv(src / "ledger.csv", dtype=str, keep_default_na=False)
    target = led["voucher_no"].iloc[100]
    village = led["village_code"].iloc[100]
    lines = led[(led["voucher_no"] == target) & (led["village_code"] == village)]
    i = lines.index[0]
    led.loc[i, "summary"] = led.loc[i, "summary"] + "（更正）"
    new = lines.copy()
    new["voucher_no"] = target + "9"
    new["entry_id"] = [x.replace(target, target + "9") for x in new["entry_id"]]
    pd.concat([led, new]).to_csv(src / "ledger.csv", index=False, encoding="utf-8")
    third = nightly(source=str(src), db=db_url)
    c3 = {c.table: c for c in third.counts}["ledger"]
    assert c3.read == 2 * len(lines) and c3.loaded == 2 * len(lines)
    assert c3.unchanged == counts["ledger"].read - len(lines)
    with store.connect(db_url).connect() as c:
        summary = c.execute(sa.text("SELECT summary FROM wh_ledger WHERE entry_id = :e"),
                            {"e": led.loc[i, "entry_id"]}).scalar()
        total = c.execute(sa.text("SELECT count(*) FROM wh_ledger")).scalar()
    assert summary.endswith("更正)") and total == counts["ledger"].loaded + len(lines)
    assert third.leads_resolved == 0

    # 3. --full forgets the fingerprints and processes every row again
    full = nightly(source=str(src), db=db_url, full=True)
    cf = {c.table: c for c in full.counts}
    assert all(c.unchanged == 0 for c in cf.values()) and cf["ledger"].read == counts["ledger"].read + len(lines)


def test_the_warehouse_snapshot_matches_the_database_or_is_not_used(tmp_path, small_county, prefect_harness):
    from sanzi_audit.flows.nightly import nightly

    db = f"sqlite:///{tmp_path / 'review.db'}"
    nightly(source=str(small_county), db=db)
    engine = store.connect(db)
    snap_dir = store.snapshot_dir(db)
    assert (snap_dir / "wh_ledger.parquet").exists()
    for table in ("ledger", "claims", "contracts", "residents", "officials"):
        from_sql = store.read_warehouse(engine, table, exclude_run=999)
        from_snap = store.read_history(engine, db, table, 999)
        key = from_sql.columns[0]
        a = from_sql.sort_values(key).reset_index(drop=True)
        b = from_snap.sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(a.astype(object).where(a.notna(), None), b.astype(object).where(b.notna(), None),
                                      check_dtype=False)
    # detection gets history in one chunk however many row groups the snapshot has (pyarrow's take slows with chunks)
    import pyarrow.parquet as pq

    snap = pq.read_table(snap_dir / "wh_ledger.parquet")
    pq.write_table(snap, snap_dir / "wh_ledger.parquet", row_group_size=max(1, snap.num_rows // 5))
    assert store.read_history(engine, db, "ledger", 999)["summary"].array._pa_array.num_chunks > 1
    led = pipeline.detector_input(engine, {}, 999, load_config(), url=db)["ledger"]
    assert len(led) == snap.num_rows
    assert all(led[c].array._pa_array.num_chunks == 1 for c in led.columns if hasattr(led[c].array, "_pa_array"))
    from_sql_ledger = store.read_warehouse(engine, "ledger")
    # someone deletes rows behind the pipeline's back: the snapshot no longer matches and is not used
    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM wh_ledger WHERE rowid IN (SELECT rowid FROM wh_ledger LIMIT 3)"))
    hist = store.read_history(engine, db, "ledger", 999)
    assert len(hist) == len(store.read_warehouse(engine, "ledger")) == len(from_sql_ledger) - 3
    # a damaged file is not a reason to fail either
    (snap_dir / "wh_claims.parquet").write_bytes(b"not parquet")
    assert len(store.read_history(engine, db, "claims", 999)) == len(store.read_warehouse(engine, "claims"))


def test_the_flow_lets_go_of_raw_rows_and_detection_views(tmp_path, small_county, prefect_harness, monkeypatch):
    """Prefect keeps every task's parameters and result until the flow ends: the flow must empty the raw extract
    before detection and the detection views after it, or a 1,000-village night holds gigabytes it no longer needs."""
    import gc
    import weakref

    from sanzi_audit import pipeline
    from sanzi_audit.flows import nightly as nightly_module

    raw_frames: list[weakref.ref] = []
    views: list[weakref.ref] = []
    alive_at_detection: list[int] = []
    real_extract, real_detect, real_rank = nightly_module.extract, pipeline.detect_carrying, pipeline.rank

    def extract(source, **kw):
        ex = real_extract(source, **kw)
        raw_frames.extend(weakref.ref(t.frame) for t in ex.tables.values())
        return ex

    def detect(data, config, engine=None, carry="off"):
        gc.collect()
        alive_at_detection.append(sum(r() is not None for r in raw_frames))
        out = real_detect(data, config, engine, carry)
        views.extend(weakref.ref(data.__dict__[v]) for v in ("payments", "entities") if v in data.__dict__)
        return out

    def rank(leads, config, engine=None):
        gc.collect()
        assert views and all(r() is None for r in views), "detection views still held after detection"
        return real_rank(leads, config, engine)

    monkeypatch.setattr(nightly_module, "extract", extract)
    monkeypatch.setattr(pipeline, "detect_carrying", detect)
    monkeypatch.setattr(pipeline, "rank", rank)
    summary = nightly_module.nightly(source=str(small_county), db=f"sqlite:///{tmp_path / 'm.db'}")
    assert summary.status == "success" and raw_frames
    assert alive_at_detection == [0]
