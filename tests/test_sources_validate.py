"""Extraction and row validation on hostile input: every row is loaded or quarantined, with an address."""

import json

import pytest

from sanzi_audit.pipeline import counts_of, validate_all
from sanzi_audit.sources import SourceError, extract

HEADER_CN = "村代码,凭证号,分录号,日期,科目编码,摘要,借方金额,贷方金额,往来单位\n"


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))


def test_gbk_chinese_headers_and_messy_values(tmp_path):
    write(tmp_path / "ledger.csv", HEADER_CN +
          '330599101200,2024-0001,1,2024年3月5日,513001,办公费,"1,234.50",0,文具店\n'
          "330599101200,2024-0001,2,2024/3/5,102001,办公费,0,１２３４．５０,\n", "gbk")
    ex = extract(tmp_path)
    assert ex.tables["ledger"].encoding == "gb18030" and not ex.problems
    v = validate_all(ex)["ledger"]
    assert v.rows_loaded == 2 and v.rows_quarantined == 0
    assert v.clean["debit"].iloc[0] == 1234.5 and v.clean["credit"].iloc[1] == 1234.5
    assert v.clean["entry_id"].tolist() == ["330599101200-2024-0001-1", "330599101200-2024-0001-2"]


def test_bad_rows_are_quarantined_with_file_row_column_and_reason(tmp_path):
    write(tmp_path / "ledger.csv", "\ufeff" + HEADER_CN +
          "330599101200,2024-0001,1,2024-03-05,513001,好行,100,0,甲\n"      # row 2: fine
          "330599101200,2024-0001,2,2024-02-30,102001,坏日期,0,100,\n"      # row 3: impossible date
          "330599101200,2024-0002,1,2024-03-06,513001,坏金额,12a,0,乙\n"    # row 4: amount
          "3305991012,2024-0003,1,2024-03-06,513001,短村码,5,0,丙\n"        # row 5: village code
          "330599101200,2024-0004,1,2024-03-06,,缺科目,5,0,丁\n"            # row 6: required
          "330599101200,2024-0005,1,2024-03-06,513001,多一列,5,0,戊,多余\n"  # row 7: field count
          "330599101200,2024-0001,1,2024-03-05,513001,重复,100,0,甲\n"      # row 8: duplicate id
          "330599101200,2024-0006,1,2024-03-07,513001,零金额,0,0,己\n")      # row 9: both zero
    ex = extract(tmp_path)
    v = validate_all(ex)["ledger"]
    assert (v.rows_read, v.rows_loaded, v.rows_quarantined) == (8, 1, 7)
    by_row = {q["source_row"]: q for q in v.quarantine}
    expected = {3: ("parse_entry_date", "entry_date"), 4: ("parse_debit", "debit"),
                5: ("village_code_format", "village_code"), 6: ("required_account_code", "account_code"),
                7: ("malformed_row", None), 8: ("duplicate_id", "entry_id"), 9: ("debit_xor_credit", "debit,credit")}
    assert set(by_row) == set(expected)
    for row, (check, column) in expected.items():
        reasons = by_row[row]["reasons"]
        assert any(r["check"] == check and r["column"] == column for r in reasons), (row, reasons)
        assert all(r["message"] for r in reasons)
        assert by_row[row]["source_file"].endswith("ledger.csv")
    assert "12a" in by_row[4]["reasons"][0]["message"]
    assert json.loads(by_row[7]["raw"])[-1] == "多余"


def test_file_level_problems_name_file_and_expected_columns(tmp_path):
    write(tmp_path / "ledger.csv", "村代码,凭证号,日期,借方金额\n330599101200,1,2024-01-01,5\n")
    write(tmp_path / "contracts.csv", "")
    (tmp_path / "claims.csv").write_bytes(b"\xff\xfe\x00garbage\x81\x00")
    ex = extract(tmp_path)
    msgs = {p.table: p.message for p in ex.problems}
    assert "account_code" in msgs["ledger"] and "科目编码" in msgs["ledger"] and "ledger.csv" in msgs["ledger"]
    assert "为空" in msgs["contracts"]
    assert "编码" in msgs["claims"]
    from sanzi_audit.contract import TABLES

    assert set(ex.absent) == set(TABLES) - {"ledger", "contracts", "claims"}


def test_missing_required_table_and_missing_folder(tmp_path):
    ex = extract(tmp_path)
    assert [p.table for p in ex.problems] == ["ledger"]
    with pytest.raises(SourceError, match="不存在"):
        extract(tmp_path / "nope")


def test_xlsx_with_several_sheets_needs_a_named_one(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "说明"
    wb.create_sheet("另一个")
    wb.save(tmp_path / "contracts.xlsx")
    write(tmp_path / "ledger.csv", HEADER_CN)
    ex = extract(tmp_path)
    assert any(p.table == "contracts" and "工作表" in p.message for p in ex.problems)


def test_clean_and_messy_exports_load_identically(small_county, small_county_messy):
    a = validate_all(extract(small_county))
    b = validate_all(extract(small_county_messy))
    for name in a:
        assert a[name].rows_quarantined == 0 and b[name].rows_quarantined == 0, name
        ka = a[name].clean.drop(columns=["_row", "_file"]).sort_values(a[name].clean.columns[0]).reset_index(drop=True)
        kb = b[name].clean.drop(columns=["_row", "_file"]).sort_values(a[name].clean.columns[0]).reset_index(drop=True)
        assert ka.astype("str").equals(kb.astype("str")), name


def test_reconciliation_holds_for_every_table(small_county):
    for c in counts_of(validate_all(extract(small_county))):
        assert c.read == c.loaded + c.quarantined


def test_quoted_line_breaks_keep_exact_row_numbers(tmp_path):
    write(tmp_path / "ledger.csv", HEADER_CN +
          '330599101200,2024-0001,1,2024-03-05,513001,"两行\n摘要",100,0,甲\n'   # lines 2-3
          "330599101200,2024-0001,2,2024-03-05,102001,好行,0,100,\n"            # line 4
          "330599101200,2024-0002,1,2024-03-06,513001,坏行,5,0\n")              # line 5: a field short
    v = validate_all(extract(tmp_path))["ledger"]
    assert v.clean["_row"].tolist() == [2, 4] and v.clean["summary"].iloc[0] == "两行\n摘要"
    assert [q["source_row"] for q in v.quarantine] == [5]


def test_an_unterminated_quote_loses_nothing(tmp_path):
    """A stray quote costs its own line, quarantined with its text; the lines after it are read, and the night is
    partial (a problem names the file and line), never 成功."""
    write(tmp_path / "ledger.csv", HEADER_CN +
          "330599101200,2024-0001,1,2024-03-05,513001,好行,100,0,甲\n"
          '330599101200,2024-0002,1,2024-03-06,513001,"坏引号,5,0,乙\n'
          "330599101200,2024-0003,1,2024-03-07,513001,不再被吞掉的行,5,0,丙\n"
          "330599101200,2024-0004,1,2024-03-08,513001,其后的行,5,0,丁\n")
    ex = extract(tmp_path)
    v = validate_all(ex)["ledger"]
    assert v.rows_read == 4 == v.rows_loaded + v.rows_quarantined
    assert sorted(v.clean["_row"]) == [2, 4, 5]
    (q,) = v.quarantine
    assert q["source_row"] == 3 and "坏引号" in q["raw"] and "引号" in q["reasons"][0]["message"]
    assert any("ledger.csv" in p.message and "第 3" in p.message for p in ex.problems)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_the_fast_reader_gives_what_the_careful_reader_gives(small_county, tmp_path, monkeypatch, encoding):
    """Clean files are read by Arrow; the result must equal the line-by-line reader's, row numbers included."""
    import pandas as pd

    from sanzi_audit import sources

    src = tmp_path / encoding
    src.mkdir()
    for f in small_county.glob("*.csv"):
        if f.stem in ("ledger", "claims", "residents", "officials", "contracts"):
            (src / f.name).write_bytes(f.read_text(encoding="utf-8").encode(encoding))
    fast = extract(src)
    calls = []
    monkeypatch.setattr(sources, "_read_fast", lambda *a: calls.append(1))
    careful = extract(src)
    assert len(calls) == 5
    for name, raw in careful.tables.items():
        a, b = fast.tables[name].frame, raw.frame
        assert str(a.iloc[:, 0].dtype) == "str"  # Arrow-backed strings from the fast reader
        assert list(a.columns) == list(b.columns) and len(a) == len(b) > 0
        pd.testing.assert_frame_equal(a.astype(object), b.astype(object), check_dtype=False)


@pytest.mark.parametrize("body,why", [
    ("a\n\nb\n", "a blank line"),
    ('a\n"b\nc"\n', "a quoted line break"),
    ("a\nb,extra\n", "a long row"),
    ("a\n   \n", "a whitespace-only line"),
])
def test_files_the_fast_reader_refuses_go_to_the_careful_one(tmp_path, body, why):
    from sanzi_audit import sources

    header = "x\n"
    data = (header + body.replace("a", "1").replace("b", "2")).encode()
    assert sources._read_body_arrow(data, 1, 1) is None, why


def test_validation_holds_no_table_once_it_has_run(small_county):
    """GX keeps its last context globally, and that context's engine kept every batch it validated: the whole
    typed table stayed in memory through detection and into the next run (or the next county on a worker)."""
    import gc

    import pandas as pd

    validated = validate_all(extract(small_county))
    assert validated["ledger"].rows_loaded > 1000
    del validated
    gc.collect()
    held = [o for o in gc.get_objects() if isinstance(o, pd.DataFrame) and "_pos" in o.columns]
    assert not held, f"GX still holds {len(held)} validated batches"
