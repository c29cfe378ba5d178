"""Backfill (a period) and township runs: rows outside are skipped and counted, nothing resolves by absence,
and re-running the same backfill changes nothing."""

import datetime as dt

import pytest
import sqlalchemy as sa

from sanzi_audit import store


def _state(db):
    with store.connect(db).connect() as c:
        wh = {t: c.execute(sa.text(f"SELECT count(*) FROM wh_{t}")).scalar() for t in ("ledger", "claims")}
        leads = dict(c.execute(sa.text("SELECT lead_id, status FROM leads")).all())
    return wh, leads


def test_backfill_and_township_runs(tmp_path, small_county, prefect_harness):
    from sanzi_audit.flows.nightly import nightly

    db = f"sqlite:///{tmp_path / 'review.db'}"
    full = nightly(source=str(small_county), db=db)
    assert full.status == "success" and not full.skipped
    wh_full, _ = _state(db)

    village = _villages(db)[0]
    part = nightly(source=str(small_county), db=db, townships=[village],
                   period_start=dt.date(2024, 7, 1), period_end=dt.date(2024, 12, 31))
    assert part.status == "success" and part.skipped["ledger"] > 0 and part.skipped["claims"] > 0
    assert "仅" in part.scope and "2024-07-01" in part.scope
    assert part.leads_resolved == 0  # a limited run never closes leads it did not look for
    wh_part, leads_part = _state(db)
    assert wh_part == wh_full  # the rows it loaded were already there: upserts, no duplicates
    assert all(s != "resolved_by_data" for s in leads_part.values())

    again = nightly(source=str(small_county), db=db, townships=[village],
                    period_start=dt.date(2024, 7, 1), period_end=dt.date(2024, 12, 31))
    assert _state(db) == (wh_part, leads_part) and again.skipped == part.skipped


def _villages(db):
    with store.connect(db).connect() as c:
        return [r[0] for r in c.execute(sa.text("SELECT DISTINCT village_code FROM wh_ledger ORDER BY 1"))]


def test_bad_township_codes_are_refused_before_a_run(tmp_path, small_county, prefect_harness):
    from sanzi_audit.flows.nightly import nightly

    with pytest.raises(ValueError, match="townships"):
        nightly(source=str(small_county), db=f"sqlite:///{tmp_path / 'r.db'}", townships=["3305"])
