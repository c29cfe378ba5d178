"""Detector results carried over from the last night (carry.py): a night that carries publishes exactly what a
night computing everything from scratch publishes, whatever changed in between, and carries nothing over a change
of the rules."""

import json
import shutil

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from sanzi_audit import carry, incremental, store
from sanzi_audit.config import DetectorSettings, load_config
from sanzi_audit.detectors.base import Lead
from sanzi_audit.ranking import rank_leads
from sanzi_audit.registry import run_detectors
from sanzi_audit.testing import _shuffled, _villages, sample_input


def _published(db: str) -> tuple[list, list]:
    with store.connect(db).connect() as c:
        leads = c.execute(sa.text(
            "SELECT lead_id, detector, detector_version, village_code, score, amount_at_risk, title, explanation, "
            "details, case_id, rank FROM leads WHERE rank IS NOT NULL ORDER BY lead_id")).all()
        evidence = c.execute(sa.text(
            "SELECT e.lead_id, e.source_table, e.record_id FROM lead_evidence e JOIN leads l USING (lead_id) "
            "WHERE l.rank IS NOT NULL ORDER BY 1, 2, 3")).all()
    return [tuple(r) for r in leads], [tuple(r) for r in evidence]


def _carried(db: str, run_id: int) -> dict[str, str | None]:
    with store.connect(db).connect() as c:
        return dict(c.execute(sa.text("SELECT detector, carried FROM run_detectors WHERE run_id = :r AND status = 'ran'"),
                              {"r": run_id}).all())


def test_a_night_that_carries_publishes_what_a_night_from_scratch_does(tmp_path, small_county, prefect_harness):
    from sanzi_audit.flows.nightly import nightly

    src = tmp_path / "src"
    shutil.copytree(small_county, src)
    db = f"sqlite:///{tmp_path / 'carry.db'}"
    first = nightly(source=str(src), db=db)
    assert set(_carried(db, first.run_id).values()) == {None}  # nothing stored yet: everything ran

    # the same exports: every detector carries its leads over, and the queue is the same
    before = _published(db)
    second = nightly(source=str(src), db=db)
    assert set(_carried(db, second.run_id).values()) == {"all"}
    assert second.leads_new == 0 and second.leads_resolved == 0 and _published(db) == before

    # one village posts a second copy of a payment voucher: village-scope detectors run again in that village only,
    # and the leads are those of a night that computes everything on the same files
    led = pd.read_csv(src / "ledger.csv", dtype=str, keep_default_na=False)
    pay = led[(led["account_code"].str.startswith("5")) & (led["debit"] != "") & (led["counterparty"] != "")]
    row = pay.iloc[len(pay) // 2]
    village = row["village_code"]
    lines = led[(led["voucher_no"] == row["voucher_no"]) & (led["village_code"] == village)].copy()
    lines["voucher_no"] = row["voucher_no"] + "8"
    lines["entry_id"] = [x.replace(row["voucher_no"], row["voucher_no"] + "8") for x in lines["entry_id"]]
    pd.concat([led, lines]).to_csv(src / "ledger.csv", index=False, encoding="utf-8")
    third = nightly(source=str(src), db=db)
    carried = _carried(db, third.run_id)
    villages = led["village_code"].nunique()
    assert carried["duplicate_payments"] == f"1/{villages}"
    assert carried["claims_duplicate"] == "all"  # reads claims only, which did not change
    assert carried["benford"] is None  # county scope: the ledger changed, so it ran on everything
    assert third.leads_new >= 1  # the copy is a duplicate payment

    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    nightly(source=str(src), db=fresh)
    got, want = _published(db), _published(fresh)
    assert got[1] == want[1]
    # scores, titles, evidence, cases and ranks alike; the review state of course differs (first night vs third)
    assert [r[:9] + r[9:] for r in got[0]] == [r for r in want[0]]


def test_a_change_of_parameters_or_configuration_carries_nothing_over_for_it():
    data = sample_input()
    first = carry.Carry({}, data)
    run_detectors(data, data.config, carry=first)
    stored = {k: carry.Entry(e.key, e.leads, e.notes) for k, e in first.entries.items()}

    cfg = data.config
    changed = cfg.model_copy(update={"detectors": {**cfg.detectors, "large_cash": DetectorSettings(
        params={"min_excess": 100.0})}})
    again = carry.Carry(stored, data)
    _, reports = run_detectors(data, changed, carry=again)
    by = {r.name: r.carried for r in reports if r.status == "ran"}
    # the county's configuration is part of every key: one changed setting runs every detector again
    assert set(by.values()) == {""}

    same = carry.Carry(stored, data)
    _, reports = run_detectors(data, cfg, carry=same)
    assert {r.carried for r in reports if r.status == "ran"} == {"all"}

    # a new version of one detector: it runs, the others carry
    cls = type("LargeCashV2", (), {})
    from sanzi_audit.registry import load_detectors

    classes = load_detectors()
    bumped = type(classes["large_cash"].__name__, (classes["large_cash"],), {"version": "999"})
    v2 = carry.Carry(stored, data)
    _, reports = run_detectors(data, cfg, classes={**classes, "large_cash": bumped}, carry=v2)
    by = {r.name: r.carried for r in reports if r.status == "ran"}
    assert by["large_cash"] == "" and by["split_contracts"] == "all"
    del cls


def test_hashes_ignore_row_order_and_see_one_changed_cell_in_its_village_only():
    data = sample_input()
    a = carry.InputHashes(data)
    b = carry.InputHashes(_shuffled(data, 7))
    for t in data.tables:
        assert a.by_village(t) == b.by_village(t) and a.whole(t) == b.whole(t)
    led = data["ledger"].copy()
    village = led["village_code"].iloc[-1]
    led.loc[led.index[-1], "summary"] = str(led["summary"].iloc[-1]) + "x"
    changed = carry.InputHashes(type(data)({**data.tables, "ledger": led}, data.config, data.warnings))
    diff = {v for v, h in changed.by_village("ledger").items() if a.by_village("ledger")[v] != h}
    assert diff == {village} and changed.whole("ledger") != a.whole("ledger")
    assert changed.whole("claims") == a.whole("claims")


def test_a_village_added_or_gone_runs_or_drops_only_that_village():
    data = sample_input()
    villages = sorted(set(data["ledger"]["village_code"]))
    fewer = _villages(data, set(villages[:-1]))
    first = carry.Carry({}, fewer)
    l1, _ = run_detectors(fewer, fewer.config, carry=first)
    stored = dict(first.entries)
    # the last village arrives: only it runs, and the leads are those of the whole county
    more = carry.Carry(stored, data)
    l2, reports = run_detectors(data, data.config, carry=more)
    by = {r.name: r.carried for r in reports if r.status == "ran"}
    assert by["duplicate_payments"] == f"1/{len(villages)}"
    fresh, _ = run_detectors(data, data.config)
    pd.testing.assert_frame_equal(rank_leads(l2, data.config), rank_leads(fresh, data.config))
    # and leaves again: its leads go with it
    back = carry.Carry(dict(more.entries), fewer)
    l3, _ = run_detectors(fewer, fewer.config, carry=back)
    pd.testing.assert_frame_equal(rank_leads(l3, fewer.config), rank_leads(l1, fewer.config))
    assert not any(ld.village_code == villages[-1] for ld in l3 if type(ld) is Lead and ld.detector != "benford")


CONFIG = load_config()
_json = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=5)
                     | st.dates(), lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
                     max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(details=st.dictionaries(st.text(max_size=6), _json, max_size=4), score=st.floats(0, 1),
       amount=st.floats(0, 1e9), title=st.text(min_size=1, max_size=20))
def test_a_carried_lead_ranks_and_publishes_byte_for_byte_as_it_was_found(details, score, amount, title):
    ld = Lead("x", "330599101201", score, amount, title, "说明", [("ledger", "a-1"), ("claims", "c 2")],
              key=("k", "1"), details=details, detector_version="3")
    back = carry._lead_of(json.loads(json.dumps(carry._lead_json(ld))))
    assert back.lead_id == ld.lead_id and back.evidence == ld.evidence and back.key == ld.key
    pd.testing.assert_frame_equal(rank_leads([back], CONFIG), rank_leads([ld], CONFIG))


@pytest.mark.parametrize("scope", ["county", "population"])
def test_a_detector_that_compares_villages_runs_on_everything_when_one_village_changes(scope):
    data = sample_input()
    from sanzi_audit.registry import load_detectors

    cls = load_detectors()["duplicate_payments"]
    wide = type(cls.__name__, (cls,), {"scope": scope})
    first = carry.Carry({}, data)
    run_detectors(data, data.config, classes={"duplicate_payments": wide}, carry=first)
    led = data["ledger"].copy()
    led.loc[led.index[0], "summary"] = str(led["summary"].iloc[0]) + "x"
    changed = type(data)({**data.tables, "ledger": led}, data.config, data.warnings)
    again = carry.Carry(dict(first.entries), changed)
    _, (report,) = run_detectors(changed, changed.config, classes={"duplicate_payments": wide}, carry=again)
    assert report.carried == ""


def test_row_hashes_fall_back_to_pandas_for_a_column_polars_cannot_take():
    mixed = pd.DataFrame({"village_code": ["1", "2"], "x": pd.array([1, "a"], dtype=object)})
    assert (incremental.row_hashes(mixed) == incremental.row_hashes(mixed.copy())).all()
    other = mixed.assign(x=pd.array([1, "b"], dtype=object))
    assert (incremental.row_hashes(mixed) != incremental.row_hashes(other)).tolist() == [False, True]


def test_the_run_summary_says_what_was_carried_over(capsys):
    from sanzi_audit.cli import print_summary
    from sanzi_audit.pipeline import RunSummary
    from sanzi_audit.registry import DetectorReport

    s = RunSummary(run_id=3, status="success", db_url="sqlite://")
    s.detectors = [DetectorReport("split_contracts", "ran", 4, 0.01, carried="all"),
                   DetectorReport("duplicate_payments", "ran", 2, 0.2, carried="3/300"),
                   DetectorReport("benford", "ran", 1, 1.5)]
    print_summary(s)
    out = capsys.readouterr().out
    assert "1 个检测器的输入与上次相同，沿用上次结果" in out and "duplicate_payments 3 个村" in out
    assert "benford" not in out.split("沿用上次结果")[1].split("\n")[0]


def test_another_version_of_a_dependency_carries_nothing_over(monkeypatch):
    """chinese-calendar with next year's holidays, a new pandas or pyod: leads can change with no line of ours."""
    data = sample_input()
    from sanzi_audit.registry import load_detectors, make_detector

    det = make_detector(load_detectors()["holiday_postings"], data.config)
    hashes = carry.InputHashes(data)
    digest = carry.config_digest(data.config)
    before = carry.key_of(det, hashes, digest).whole
    real = carry.dependency_versions()
    monkeypatch.setattr(carry, "dependency_versions", lambda: {**real, "chinese-calendar": "9.9.9"})
    carry._package_digest.cache_clear()
    carry._class_digest.cache_clear()
    try:
        assert carry.key_of(det, hashes, digest).whole != before
    finally:
        carry._package_digest.cache_clear()
        carry._class_digest.cache_clear()


def test_every_village_scope_declaration_holds_on_every_village_of_a_synthetic_county(small_tables):
    """Carrying trusts Detector.scope: a village-scope detector runs again only where rows changed. The sample
    county of check_detector has no cross-village cases; this county does (a pension paid in two villages, a
    claimant registered in another one), and a rule that looks across villages must say so."""
    from sanzi_audit.detectors.base import DetectorInput
    from sanzi_audit.registry import load_detectors
    from sanzi_audit.testing import _summary

    data = DetectorInput(small_tables, CONFIG)
    villages = sorted({v for df in data.tables.values() if "village_code" in df for v in df["village_code"].dropna()})
    assert len(villages) >= 6
    wrong = []
    for name, cls in load_detectors().items():
        if cls.scope == "population" or any(not data.has(t) for t in cls.requires):
            continue
        full = cls(cls.Params()).detect(data)
        for v in villages:
            alone = set(_summary(cls(cls.Params()).detect(_villages(data, {v}))))
            among = set(_summary([ld for ld in full if ld.village_code == v]))
            if (cls.scope == "village" and alone != among) or (cls.scope == "county" and not alone <= among):
                wrong.append((name, cls.scope, v))
                break
    assert not wrong, f"scope declarations that do not hold: {wrong}"


def test_a_detector_whose_leads_cite_other_villages_is_never_carried_village_by_village(small_tables):
    """A wrong declaration is caught at run time too: a lead citing another village's record (claims_duplicate
    declared village scope here) makes its results carry only when nothing at all changed."""
    from sanzi_audit.detectors.base import DetectorInput
    from sanzi_audit.registry import load_detectors

    data = DetectorInput(small_tables, CONFIG)
    cls = load_detectors()["claims_duplicate"]
    wrong = type(cls.__name__, (cls,), {"scope": "village"})
    classes = {"claims_duplicate": wrong}
    first = carry.Carry({}, data)
    leads, (report,) = run_detectors(data, CONFIG, classes=classes, carry=first)
    assert leads and not carry.local(leads, data) and first.entries["claims_duplicate"].key.villages is None
    assert "其他村的记录" in report.reason

    again = carry.Carry(dict(first.entries), data)  # nothing changed: carried
    _, (report,) = run_detectors(data, CONFIG, classes=classes, carry=again)
    assert report.carried == "all" and again.entries["claims_duplicate"].key.villages is None

    claims = data["claims"].copy()  # one village's claim changes: everything runs again, not that village alone
    claims.loc[claims.index[0], "amount"] = float(claims["amount"].iloc[0]) + 1
    changed = DetectorInput({**data.tables, "claims": claims}, CONFIG)
    third = carry.Carry(dict(again.entries), changed)
    _, (report,) = run_detectors(changed, CONFIG, classes=classes, carry=third)
    assert report.carried == ""
