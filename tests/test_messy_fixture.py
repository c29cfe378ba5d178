"""The messy export in tests/fixtures/messy: every row's fate is known in advance (see make_messy.py)."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from sanzi_audit import pipeline, store
from sanzi_audit.config import load_config
from sanzi_audit.sources import extract

MESSY = Path(__file__).parent / "fixtures" / "messy"
CONFIG = MESSY / "county.yaml"

# source row → the reason that must be among the row's reasons (check id)
LEDGER_QUARANTINE = {4: "account_not_in_chart", 8: "account_not_in_chart", 10: "parse_entry_date",
                     11: "parse_debit", 12: "village_code_format", 13: "village_unknown",
                     14: "required_account_code", 15: "future_entry_date", 16: "period_entry_date",
                     17: "debit_xor_credit", 18: "debit_xor_credit", 21: "duplicate_id", 22: "malformed_row"}
LEDGER_WARN = {19: {"party_id_invalid", "voucher_unbalanced"}, 20: {"voucher_unbalanced"}}
CLAIMS_QUARANTINE = {7: "required_pay_date", 8: "parse_amount", 9: "future_pay_date"}
CLAIMS_WARN = {5: {"ric_invalid_claimant_id"}, 6: {"ric_legacy_claimant_id"}}


@pytest.fixture(scope="module")
def validated():
    ex = extract(MESSY)
    return ex, pipeline.validate_all(ex, load_config(CONFIG))


def test_file_level_problems_name_the_file_and_what_was_expected(validated):
    ex, _ = validated
    problems = {p.table: p.message for p in ex.problems}
    assert set(problems) == {"contracts", "residents"}
    assert "contracts.csv" in problems["contracts"] and "合同金额" in problems["contracts"]  # the aliases it accepts
    assert "residents.csv" in problems["residents"] and "为空" in problems["residents"]
    from sanzi_audit.contract import TABLES

    # every optional table the fixture leaves out, officials among them, in the contract's order
    assert ex.absent == [t for t in TABLES if t not in ("ledger", "contracts", "claims", "residents")]


def test_exact_quarantine_and_warnings(validated):
    _, v = validated
    counts = {c.table: (c.read, c.loaded, c.quarantined, c.warned) for c in pipeline.counts_of(v)}
    assert counts == {"ledger": (23, 10, 13, 2), "claims": (8, 5, 3, 2)}
    for table, quarantine, warn in (("ledger", LEDGER_QUARANTINE, LEDGER_WARN),
                                    ("claims", CLAIMS_QUARANTINE, CLAIMS_WARN)):
        got = {q["source_row"]: {r["check"] for r in q["reasons"]} for q in v[table].quarantine}
        assert set(got) == set(quarantine), table
        for row, check in quarantine.items():
            assert check in got[row], (table, row, got[row])
        warned = {w["source_row"]: {r["check"] for r in w["reasons"]} for w in v[table].warnings}
        assert warned == warn, table


def test_normalised_ids_load(validated):
    # lower-case x and full-width digits are the same valid IDs once normalised
    _, v = validated
    ids = v["claims"].clean["claimant_id"].tolist()
    assert any(i.endswith("X") for i in ids) and all(i.isascii() for i in ids)


def test_reasons_are_readable_chinese_with_the_value(validated):
    _, v = validated
    by_row = {q["source_row"]: q for q in v["ledger"].quarantine}
    msg = next(r["message"] for r in by_row[4]["reasons"] if r["check"] == "account_not_in_chart")
    assert "541001" in msg and "2024-03-06" in msg and "科目" in msg
    assert json.loads(by_row[11]["raw"])["debit"] == "12a"  # the raw value as read


def test_no_row_is_lost(validated):
    _, v = validated
    for t in v.values():
        rows = sorted([q["source_row"] for q in t.quarantine] + t.clean["_row"].tolist())
        assert rows == list(range(2, 2 + t.rows_read))


def test_warnings_become_data_quality_leads_kept_apart(validated):
    _, v = validated
    leads = pipeline.quality_leads(v)
    assert {(ld.details["table"], ld.details["check"], len(ld.evidence)) for ld in leads} == {
        ("claims", "ric_invalid_claimant_id", 1), ("ledger", "voucher_unbalanced", 2)}
    assert all(ld.detector == "data_quality" and "疑点" in ld.title for ld in leads)


def test_flow_run_is_partial_with_data_docs_and_fixing_the_file_loads_the_rows(tmp_path, prefect_harness):
    from sanzi_audit.flows.nightly import nightly

    src = tmp_path / "src"
    shutil.copytree(MESSY, src)
    db = f"sqlite:///{tmp_path / 'review.db'}"
    s = nightly(source=str(src), db=db, config_path=str(CONFIG))
    assert s.status == "partial" and any("contracts.csv" in p for p in s.problems)
    docs = Path(s.data_docs)
    assert docs == tmp_path / "data_docs" / f"run-{s.run_id:05d}" / "index.html" and docs.exists()
    html = "".join(p.read_text(encoding="utf-8") for p in docs.parent.rglob("*.html"))
    assert "expect_column_pair_values_to_be_account_in_chart" in html or "account_in_chart" in html
    engine = store.connect(db)
    with engine.connect() as c:
        q = pd.read_sql_query(sa.text("SELECT * FROM quarantine"), c)
        run = c.execute(sa.select(store.runs)).one()
        dq = pd.read_sql_query(sa.text("SELECT detector, rank FROM leads WHERE detector = 'data_quality'"), c)
    assert len(q) == 16 and run.data_docs == str(docs)
    assert {c["table"]: c["quarantined"] for c in json.loads(run.counts)} == {"ledger": 13, "claims": 3}
    assert len(dq) == 2

    # fix the impossible date on line 10 and run again: the row loads, the rest stays quarantined
    ledger = (src / "ledger.csv").read_bytes().decode("gbk").replace("2024-02-30", "2024-02-28")
    (src / "ledger.csv").write_bytes(ledger.encode("gbk"))
    s2 = nightly(source=str(src), db=db, config_path=str(CONFIG))
    led = {c.table: c for c in s2.counts}["ledger"]
    # rows loaded cleanly last night are skipped as unchanged; the fixed row and the warned ones are processed
    assert (led.loaded + led.unchanged, led.quarantined) == (11, 12) and led.unchanged > 0
    with engine.connect() as c:
        n = c.execute(sa.text("SELECT count(*) FROM wh_ledger WHERE voucher_no = '记-005'")).scalar()
    assert n == 1
