"""The expectation suites: loaded whole or refused, and each custom expectation checked on small frames."""

import datetime as dt
import json

import pandas as pd
import pytest

from sanzi_audit import expectations, quality
from sanzi_audit.contract import TABLES
from sanzi_audit.expectations import SuiteError, load_suite
from sanzi_audit.quality import QualityError, Validator


def _validator(**kw):
    params = dict(county_code="330599", villages=None, period_start=dt.date(2015, 1, 1),
                  period_end=dt.date(2026, 11, 23), today=dt.date(2026, 11, 23))
    params.update(kw)
    return Validator(quality.parameters(**params))


@pytest.mark.parametrize("table", list(TABLES))
def test_every_table_has_a_suite_that_loads_whole(table):
    suite, rules = load_suite(table)
    assert len(suite.expectations) == len(rules) == len(expectations.suite_json(table)["expectations"]) > 0
    assert {r.action for r in rules} <= {"reject", "warn"}
    # every column the suite names exists in the data contract
    for r in rules:
        assert set(r.columns) <= set(TABLES[table].column_names), (r.id, r.columns)


def test_a_suite_naming_an_unregistered_expectation_is_refused(monkeypatch):
    # GX itself would drop the entry with a log line and pass the rest; we must not
    data = expectations.suite_json("claims")
    data["expectations"].append({"type": "expect_column_values_to_be_valid_bank_card", "severity": "critical",
                                 "kwargs": {"column": "bank_account"}, "meta": {"id": "x", "message": "x"}})
    monkeypatch.setattr(expectations, "suite_json", lambda table: data)
    with pytest.raises(SuiteError, match="expect_column_values_to_be_valid_bank_card"):
        load_suite("claims")


def test_an_entry_without_severity_meaning_or_message_is_refused(monkeypatch):
    data = expectations.suite_json("claims")
    data["expectations"][0]["severity"] = "info"
    monkeypatch.setattr(expectations, "suite_json", lambda table: data)
    with pytest.raises(SuiteError, match="severity"):
        load_suite("claims")


def test_an_expectation_that_errors_fails_the_run(monkeypatch):
    data = expectations.suite_json("officials")
    data["expectations"].append({"type": "expect_column_values_to_match_regex", "severity": "critical",
                                 "kwargs": {"column": "no_such_column", "regex": "x"},
                                 "meta": {"id": "broken", "message": "x"}})
    monkeypatch.setattr(expectations, "suite_json", lambda table: data)
    frame = pd.DataFrame({c: pd.Series([None], dtype="str") for c in TABLES["officials"].column_names})
    with pytest.raises(QualityError, match="broken"):
        _validator().validate("officials", frame)


def _ledger(rows):
    cols = TABLES["ledger"].column_names
    df = pd.DataFrame(rows)
    for c in cols:
        if c not in df:
            df[c] = None
    df["entry_date"] = pd.to_datetime(df["entry_date"])
    for c in ("debit", "credit"):
        df[c] = df[c].astype(float)
    for c in cols:
        if c not in ("entry_date", "debit", "credit"):
            df[c] = df[c].astype("str")
    return df[cols]


def _failed(tq, rule_id):
    return sorted(int(p) for f in tq.failures if f.rule.id == rule_id for p in f.positions)


def test_ledger_rules_on_a_small_frame():
    V = "330599101200"
    df = _ledger([
        dict(village_code=V, voucher_no="1", entry_date="2024-03-01", account_code="513001", debit=10, credit=0),
        dict(village_code=V, voucher_no="1", entry_date="2024-03-01", account_code="102001", debit=0, credit=10),
        dict(village_code=V, voucher_no="2", entry_date="2023-03-01", account_code="513001", debit=10, credit=0),
        dict(village_code=V, voucher_no="2", entry_date="2023-03-01", account_code="541", debit=0, credit=10),
        dict(village_code="330599000200", voucher_no="3", entry_date="2024-03-01", account_code="999001",
             debit=5, credit=0),
        dict(village_code=V, voucher_no="4", entry_date="2027-01-01", account_code="513001", debit=5, credit=5),
    ])
    tq = _validator().validate("ledger", df)
    assert _failed(tq, "account_not_in_chart") == [2, 4]  # 513 is not in the 2004 chart; 999 in neither
    assert _failed(tq, "village_unknown") == [4]  # township part 000
    assert _failed(tq, "future_entry_date") == [5]
    assert _failed(tq, "debit_xor_credit") == [5]
    assert _failed(tq, "voucher_unbalanced") == [4]  # voucher 4 has 5 on each side: balanced
    checked = {o.id: o for o in tq.outcomes}
    assert checked["voucher_unbalanced"].action == "warn" and checked["account_not_in_chart"].action == "reject"


def test_known_villages_from_config():
    df = _ledger([dict(village_code=v, voucher_no="1", entry_date="2024-03-01", account_code="101", debit=1,
                       credit=0) for v in ("330599101200", "330599101201")])
    tq = _validator(villages=["330599101200"]).validate("ledger", df)
    assert _failed(tq, "village_unknown") == [1]


def test_suite_files_are_json_in_gx_form():
    for table in TABLES:
        data = json.loads((expectations.resources.files(expectations).joinpath(f"{table}.json")).read_text("utf-8"))
        assert data["name"] == table
        for e in data["expectations"]:
            assert e["type"].startswith("expect_") and e["severity"] in ("critical", "warning")
