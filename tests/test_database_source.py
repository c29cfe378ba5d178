"""A source database instead of a folder of exports: same contract, same results, clear errors."""

import pandas as pd
import pytest
import sqlalchemy as sa

from sanzi_audit.pipeline import validate_all
from sanzi_audit.sources import META, SourceError, extract


def _write_source(url, result, drop=()):
    eng = sa.create_engine(url)
    names = {"ledger": "会计分录", "contracts": "contracts", "claims": "claims", "residents": "村民名册",
             "officials": "officials"}  # a platform's tables may carry the Chinese titles
    for name, df in result.tables.items():
        if name in drop:
            continue
        out = df.copy()
        if name == "ledger":
            out = out.drop(columns=["entry_id"]).rename(columns={"debit": "借方金额", "credit": "贷方金额"})
        out.to_sql(names[name], eng, index=False)
    eng.dispose()


def test_database_source_loads_like_the_folder(db_url, small_result, small_county):
    _write_source(db_url, small_result)
    from_db = validate_all(extract(db_url))
    from_files = validate_all(extract(small_county))
    for name in from_files:
        assert from_db[name].rows_quarantined == 0, (name, from_db[name].quarantine[:2])
        # where a row came from (file, sheet, row, position in the extract) differs by source, not its values
        a = from_db[name].clean.drop(columns=list(META))
        b = from_files[name].clean.drop(columns=list(META))
        key = a.columns[0]
        pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True).astype("str"),
                                      b.sort_values(key).reset_index(drop=True).astype("str"), obj=name)


def test_database_source_missing_tables_and_unreachable(db_url, small_result):
    _write_source(db_url, small_result, drop=("contracts", "ledger"))
    ex = extract(db_url)
    assert "contracts" in ex.absent and [p.table for p in ex.problems] == ["ledger"]
    assert "会计分录" in ex.problems[0].message or "ledger" in ex.problems[0].message


def test_unreachable_database_names_it_without_the_password():
    with pytest.raises(SourceError) as err:
        extract("postgresql+psycopg://auditor:s3cret@127.0.0.1:1/nowhere")
    assert "s3cret" not in str(err.value) and "auditor:***@" in str(err.value)


def test_a_flaky_table_is_retried_and_a_dead_one_does_not_sink_the_others(tmp_path, small_result, monkeypatch):
    """A dropped connection is retried; a table that keeps failing becomes that table's problem, named with
    the reason, and the other tables are read as usual."""
    from sanzi_audit import sources

    url = f"sqlite:///{tmp_path / 'source.db'}"
    _write_source(url, small_result)
    real = sources._read_db_table
    calls: dict[str, int] = {}

    def flaky(engine, name, table, where, chunk_rows):
        calls[table.name] = calls.get(table.name, 0) + 1
        dropped = sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))
        if table.name == "claims" and calls["claims"] == 1:
            raise dropped
        if table.name == "residents":
            raise dropped
        return real(engine, name, table, where, chunk_rows)

    monkeypatch.setattr(sources, "_read_db_table", flaky)
    ex = extract(url, retries=2, retry_delay=0.01)
    assert calls["claims"] == 2 and calls["residents"] == 3 and calls["ledger"] == 1
    assert set(ex.tables) == {"ledger", "contracts", "claims", "officials"}
    (problem,) = ex.problems
    assert problem.table == "residents" and "共尝试 3 次" in problem.message and "server closed" in problem.message
    assert len(ex.tables["claims"].frame) == len(small_result.tables["claims"])


def test_a_non_transient_error_is_not_retried(tmp_path, small_result, monkeypatch):
    from sanzi_audit import sources

    url = f"sqlite:///{tmp_path / 'source.db'}"
    _write_source(url, small_result)
    calls = []

    def broken(engine, name, table, where, chunk_rows):
        calls.append(table.name)
        raise sa.exc.ProgrammingError("SELECT", {}, Exception("permission denied for table"))

    monkeypatch.setattr(sources, "_read_db_table", broken)
    ex = extract(url, retries=3, retry_delay=0.01)
    assert len(calls) == 5 and len(ex.problems) == 5 and not ex.tables
    assert all("permission denied" in p.message and "共尝试 1 次" in p.message for p in ex.problems)
