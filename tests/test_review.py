"""The review table as a system of record, on SQLite and PostgreSQL: transitions, reruns, reopen, resolved."""

import pandas as pd
import pytest
import sqlalchemy as sa

from sanzi_audit import pipeline, review, store
from sanzi_audit.config import Review


def ranked(leads):
    """leads: {lead_id: (amount, [record ids])}"""
    return pd.DataFrame([dict(lead_id=i, detector="duplicate_payments", case_id="C-" + i, village_code="330599101200",
                              township_code="330599101", score=0.8, priority=0.8, rank=n + 1, amount_at_risk=amt,
                              title="重复支付疑点", explanation="说明", details="{}",
                              evidence=[("ledger", r) for r in recs])
                         for n, (i, (amt, recs)) in enumerate(leads.items())])


def publish(engine, leads, run, complete=True):
    return pipeline.publish(engine, ranked(leads), run, Review(), complete=complete,
                            detectors_ran={"duplicate_payments"})


def status(engine, lead_id):
    with engine.connect() as c:
        return c.execute(sa.select(store.leads.c.status, store.leads.c.assignee)
                         .where(store.leads.c.lead_id == lead_id)).one()


def events(engine, lead_id):
    return [(e["event"], e["to_status"]) for e in review.history(engine, lead_id)]


TRANSITIONS = [
    ("take a new lead", ["in_review"], "in_review", None),
    ("confirm without taking it first", ["confirmed"], None, "不能改为"),
    ("dismiss needs a reason", ["in_review", ("dismissed", None)], None, "理由"),
    ("refer needs a target", ["in_review", ("referred", "线索移交", None)], None, "移交对象"),
    ("dismiss with a reason, then close", ["in_review", ("dismissed", "发票为合法分次开具"), "closed"], "closed", None),
    ("nothing after closed", ["in_review", ("confirmed", "属实"), "closed", "in_review"], None, "不能改为"),
]


@pytest.mark.parametrize("desc,steps,final,error", TRANSITIONS, ids=[t[0] for t in TRANSITIONS])
def test_transitions(db_url, desc, steps, final, error):
    engine = store.connect(db_url)
    publish(engine, {"a": (100.0, ["e1"])}, 1)
    try:
        for step in steps:
            to, note, target = (step, None, None) if isinstance(step, str) else (step + (None,))[:3]
            review.transition(engine, "a", to, "李审计", note=note, target=target)
    except review.ReviewError as exc:
        assert error and error in str(exc), exc
        return
    assert error is None and status(engine, "a").status == final


def test_the_same_state_cannot_be_left_twice(db_url):
    engine = store.connect(db_url)
    publish(engine, {"a": (100.0, ["e1"])}, 1)
    review.transition(engine, "a", "in_review", "甲")
    with pytest.raises(review.ReviewError):
        review.transition(engine, "a", "in_review", "乙")  # already taken
    assert status(engine, "a").assignee == "甲"


def test_rerun_changes_nothing_reviewers_wrote(db_url):
    engine = store.connect(db_url)
    publish(engine, {"a": (100.0, ["e1"]), "b": (50.0, ["e2"])}, 1)
    review.transition(engine, "a", "in_review", "李审计")
    review.add_note(engine, "a", "李审计", "已调取凭证")
    res = publish(engine, {"a": (100.0, ["e1"]), "b": (50.0, ["e2"])}, 2)
    assert (res.new, res.updated, res.reopened, res.resolved_by_data) == (0, 2, 0, 0)
    assert tuple(status(engine, "a")) == ("in_review", "李审计")
    assert events(engine, "a") == [("created", "new"), ("status", "in_review"), ("note", "in_review")]


def test_dismissed_stays_dismissed_until_the_evidence_grows(db_url):
    engine = store.connect(db_url)
    publish(engine, {"a": (100.0, ["e1", "e2"])}, 1)
    review.transition(engine, "a", "in_review", "李审计")
    review.transition(engine, "a", "dismissed", "李审计", note="分期付款，非重复")
    assert publish(engine, {"a": (105.0, ["e1", "e2"])}, 2).reopened == 0  # +5%: not material
    assert status(engine, "a").status == "dismissed"
    assert publish(engine, {"a": (300.0, ["e1", "e2", "e3"])}, 3).reopened == 1
    assert status(engine, "a").status == "new"
    (note,) = [e["note"] for e in review.history(engine, "a") if e["event"] == "reopened"]
    assert "e3" in note and "300.00" in note


def test_vanished_anomaly_is_resolved_by_data_not_deleted_and_only_in_complete_runs(db_url):
    engine = store.connect(db_url)
    publish(engine, {"a": (100.0, ["e1"]), "b": (50.0, ["e2"])}, 1)
    assert publish(engine, {"a": (100.0, ["e1"])}, 2, complete=False).resolved_by_data == 0
    assert status(engine, "b").status == "new"
    assert publish(engine, {"a": (100.0, ["e1"])}, 3).resolved_by_data == 1
    assert status(engine, "b").status == "resolved_by_data"
    assert publish(engine, {"a": (100.0, ["e1"]), "b": (50.0, ["e2"])}, 4).reopened == 1  # it came back
    assert [e for e, _ in events(engine, "b")] == ["created", "resolved_by_data", "reopened"]


def test_confirmed_share_counts_latest_verdicts(db_url):
    engine = store.connect(db_url)
    publish(engine, {x: (100.0, [f"e{x}"]) for x in "abc"}, 1)
    for x, verdict in (("a", "confirmed"), ("b", "dismissed"), ("c", "confirmed")):
        review.transition(engine, x, "in_review", "李审计")
        review.transition(engine, x, verdict, "李审计", note="核查结论")
    review.transition(engine, "c", "closed", "李审计")  # closing keeps the verdict
    (row,) = review.confirmed_share(engine)
    assert (row["reviewed"], row["confirmed"]) == (3, 2)
