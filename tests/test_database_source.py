"""A source database instead of a folder of exports: same contract, same results, clear errors."""

import pandas as pd
import pytest
import sqlalchemy as sa

from sanzi_audit.pipeline import validate_all
from sanzi_audit.sources import SourceError, extract


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
        a = from_db[name].clean.drop(columns=["_row", "_file"])
        b = from_files[name].clean.drop(columns=["_row", "_file"])
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
