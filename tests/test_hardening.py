"""Hardening found by trying to break the pipeline: renamed and dropped columns, stray quotes, empty columns."""

from __future__ import annotations

import shutil

import pandas as pd
import sqlalchemy as sa

from sanzi_audit import store


def _open_leads(db: str) -> int:
    with store.connect(db).connect() as c:
        return c.execute(sa.text("SELECT count(*) FROM leads WHERE status IN ('new', 'in_review')")).scalar()


def test_a_header_variant_is_read_and_a_dropped_column_makes_the_night_partial(tmp_path, small_county,
                                                                              prefect_harness):
    from sanzi_audit.flows.nightly import nightly

    src = tmp_path / "src"
    shutil.copytree(small_county, src, ignore=shutil.ignore_patterns("_truth"))
    db = f"sqlite:///{tmp_path / 'review.db'}"
    first = nightly(source=str(src), db=db)
    assert first.status == "success"
    opened = _open_leads(db)
    assert opened > 0
    led = pd.read_csv(src / "ledger.csv", dtype=str, keep_default_na=False)
    # 收款帐号 (帐, not 账) and 身份证号码: the same columns under the headers real exports use
    led.rename(columns={"counterparty_account": "收款帐号", "counterparty_id": "身份证号码"}).to_csv(
        src / "ledger.csv", index=False)
    second = nightly(source=str(src), db=db, full=True)
    assert second.status == "success" and second.leads_resolved == 0, second.problems
    assert _open_leads(db) == opened
    # the column gone (an export that leaves it out): partial, says which column, and closes nothing by data
    led.drop(columns=["counterparty_account"]).to_csv(src / "ledger.csv", index=False)
    third = nightly(source=str(src), db=db, full=True)
    assert third.status == "partial" and third.leads_resolved == 0
    assert any("counterparty_account" in p and "收款账号" in p for p in third.problems), third.problems
    assert _open_leads(db) == opened
