"""A run is atomic for readers, two runs never interleave, and auditors' writes survive a concurrent publish."""

import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
import sqlalchemy as sa

from sanzi_audit import pipeline, review, store


def ranked(ids, amount=100.0):
    return pd.DataFrame([dict(lead_id=i, detector="split_contracts", case_id="C-" + i, village_code="330599101200",
                              township_code="330599101", score=0.5, priority=0.5, rank=n + 1, amount_at_risk=amount,
                              title="疑点", explanation="说明", details="{}",
                              evidence=[("ledger", f"e-{i}")])
                         for n, i in enumerate(ids)])


def snapshot(engine):
    with engine.connect() as c:
        return pd.read_sql_query(sa.text("SELECT lead_id, rank, amount_at_risk, status FROM leads ORDER BY lead_id"), c)


def test_two_runs_never_hold_the_lock_and_a_dead_holder_is_taken_over(db_url):
    engine = store.connect(db_url)
    store.acquire_run_lock(engine, "first")
    with pytest.raises(store.RunLockedError, match="另一次运行正在写入"):
        store.acquire_run_lock(engine, "second")
    with pytest.raises(store.RunLockedError):
        store.check_run_lock(engine)
    store.release_run_lock(engine)
    store.acquire_run_lock(engine, "third")
    store.release_run_lock(engine)

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    import socket

    with engine.begin() as c:  # a run killed with -9 left its lock behind
        c.execute(store.run_lock.insert().values(name="nightly", run_label="killed", host=socket.gethostname(),
                                                 pid=int(dead.stdout), acquired_at=store.now()))
    store.check_run_lock(engine)
    store.acquire_run_lock(engine, "after a crash")
    store.release_run_lock(engine)


def test_a_publish_that_dies_half_way_leaves_last_nights_leads(db_url):
    engine = store.connect(db_url)
    pipeline.publish(engine, ranked(["a", "b"]), 1)
    before = snapshot(engine)

    @sa.event.listens_for(engine, "before_cursor_execute")
    def die(conn, cursor, statement, *args):  # the process dies after the leads were written, before commit
        if statement.lstrip().upper().startswith("INSERT INTO LEAD_EVIDENCE"):
            raise RuntimeError("killed mid-publish")

    try:
        with pytest.raises(RuntimeError, match="killed"):
            pipeline.publish(engine, ranked(["a", "b", "c"], amount=999.0), 2)
    finally:
        sa.event.remove(engine, "before_cursor_execute", die)
    pd.testing.assert_frame_equal(snapshot(engine), before)


def test_auditor_writes_during_a_publish_are_kept(db_url):
    engine = store.connect(db_url)
    pipeline.publish(engine, ranked(["a", "b"]), 1)
    review.transition(engine, "a", "in_review", "李审计")
    # hold the nightly transaction open right after it wrote the leads, while an auditor acts
    entered, go_on = threading.Event(), threading.Event()

    @sa.event.listens_for(engine, "after_cursor_execute")
    def pause(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO LEAD_EVIDENCE") and not entered.is_set():
            entered.set()
            go_on.wait(10)

    errors = []
    nightly = threading.Thread(target=lambda: pipeline.publish(engine, ranked(["a", "b"], amount=500.0), 2))
    nightly.start()
    assert entered.wait(10)

    def auditor():
        try:
            review.transition(engine, "a", "dismissed", "李审计", note="已核实为正常分期付款")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    a = threading.Thread(target=auditor)
    a.start()
    time.sleep(0.5)  # the auditor now waits on the nightly transaction's lock
    go_on.set()
    nightly.join(30)
    a.join(30)
    sa.event.remove(engine, "after_cursor_execute", pause)
    assert not errors, errors
    snap = snapshot(engine).set_index("lead_id")
    assert snap.loc["a", "status"] == "dismissed"  # the auditor's write
    assert snap.loc["a", "amount_at_risk"] == 500.0  # the nightly write
