"""Real exports in: the two real 金蝶 samples, every family the synth writes, and files made by hand in the odd
shapes real systems produce (OLE2 .xls, SpreadsheetML, HTML with two-level headers, GBK U8 text, stray quotes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from sanzi_audit.config import load_config
from sanzi_audit.imports import reader
from sanzi_audit.imports.grid import read_workbook, sniff, split_text
from sanzi_audit.imports.villages import VillageDirectory, village_core
from sanzi_audit.pipeline import validate_all
from sanzi_audit.sources import extract

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-formats"
VILLAGE = "330599101001"


def county(tmp_path: Path, extra: str = "") -> Path:
    """A county config with a small village directory, written beside the exports."""
    cfg = tmp_path / "_county"
    cfg.mkdir(exist_ok=True)
    (cfg / "dir.csv").write_text("代码,名称,乡镇,别名\n330599101001,新塘村,城关镇,\n330599101002,后山村,城关镇,后山\n"
                                 "330599102001,新塘村,石门镇,\n330599102002,上溪村,石门镇,上溪股份经济合作社\n",
                                 encoding="utf-8")
    (cfg / "county.yaml").write_text("region: {name: 演示县, county_code: '330599', village_directory: dir.csv}\n"
                                     + extra, encoding="utf-8")
    return cfg / "county.yaml"


def run_extract(src: Path, cfg: Path):
    config = load_config(cfg)
    ex = extract(src, config=config)
    return ex, validate_all(ex, config)


# ---- the real 金蝶 samples ----------------------------------------------------------------------------------

@pytest.mark.skipif(not REAL.exists(), reason="../shared/real-formats not present")
def test_both_real_kingdee_samples_load_with_every_row_accounted_for(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for f in REAL.glob("*.xlsx"):
        shutil.copy(f, src / f.name)
    cfg = county(tmp_path, f"imports:\n  files:\n    - {{glob: 'kingdee_*', village: '{VILLAGE}'}}\n")
    ex, v = run_extract(src, cfg)
    assert not ex.problems
    sheets = {s.sheet: s for r in ex.files for s in r.sheets}
    native = sheets["凭证列表#2026年第6期"]
    assert native.profile == "kingdee_voucher_list" and native.header_rows == [3]
    assert native.data_rows == 217 and native.layout == {"title": 2, "header": 1}
    entries = sheets["AccountEntries"]
    assert entries.profile == "kingdee_account_entries" and entries.data_rows == 29
    led = v["ledger"]
    assert led.rows_read == 217 + 29 == led.rows_loaded + led.rows_quarantined
    by_row = led.clean.set_index(["_file", "_row"])
    first = by_row.loc[("kingdee_voucher_list_native_2026-06_redacted.xlsx", 4)]
    assert first["account_code"] == "22410053" and first["debit"] == 3500
    assert first["counterparty"] == "深圳市国宏企业管理有限公司" and first["counterparty_source"] == "subaccount"
    # the continuation line (no date, no voucher number of its own) belongs to the same voucher
    second = by_row.loc[("kingdee_voucher_list_native_2026-06_redacted.xlsx", 5)]
    assert second["voucher_no"] == first["voucher_no"] and second["entry_date"] == first["entry_date"]
    # 未找到 in a code cell of the AccountEntries sample is quarantined with its reason, not lost
    q = [x for x in led.quarantine if x["source_file"].startswith("kingdee_AccountEntries")]
    assert all(x["reasons"] for x in q)


# ---- every family the synthetic county is written in ---------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from sanzi_audit.synth import SynthOptions, generate

    return generate(SynthOptions(villages=7, seed=11, vouchers_per_village=120), load_config())


@pytest.mark.parametrize("fmt", ["mixed", "kingdee", "yonyou", "sanzi-system"])
def test_real_layouts_read_back_to_the_same_records(tmp_path, tiny, fmt):
    from sanzi_audit.synth import write

    out = write(tiny, tmp_path / fmt, fmt=fmt, seed=1)
    config = load_config(out / "_county" / "county.yaml")
    ex = extract(out, config=config)
    assert not ex.problems, ex.problems
    v = validate_all(ex, config)
    rows = pd.read_csv(out / "_truth" / "rows.csv", dtype=str).fillna({"source_sheet": ""})
    for table, canon in tiny.tables.items():
        got = v[table]
        assert got.rows_quarantined == 0, got.quarantine[:3]
        assert got.rows_loaded == len(canon)
        where = rows[rows["source_table"] == table]
        loaded = got.clean.assign(_sheet=got.clean["_sheet"].fillna(""), _row=got.clean["_row"].astype(str))
        m = where.merge(loaded, left_on=["source_file", "source_sheet", "source_row"],
                        right_on=["_file", "_sheet", "_row"], how="left")
        assert m["_file"].notna().all(), f"{table}: rows written but not read back"
        rid = {"ledger": "entry_id", "claims": "claim_id", "contracts": "contract_no", "residents": "person_id",
               "officials": "person_id"}[table]
        ref = canon.drop_duplicates(rid).set_index(canon.drop_duplicates(rid)[rid].astype(str))
        cmp = ["debit", "credit", "account_code", "entry_date"] if table == "ledger" else {
            "claims": ["claimant_id", "bank_account", "amount", "pay_date", "program", "period"],
            "contracts": ["vendor", "amount", "sign_date", "method"], "residents": ["name", "status", "household_id"],
            "officials": []}[table]
        want = ref.reindex(m["record_id"])
        for c in cmp:
            a = pd.Series(want[c].to_numpy()).map(_norm)
            b = pd.Series(m[c].to_numpy()).map(_norm)
            assert (a == b).all(), f"{table}.{c}: {list(zip(a[a != b][:3], b[a != b][:3], strict=False))}"
    # the ledger keeps every voucher together and the payees the layouts carry
    led = v["ledger"].clean
    assert led.groupby(["village_code", "voucher_no"])["debit"].sum().round(2).equals(
        led.groupby(["village_code", "voucher_no"])["credit"].sum().round(2))
    assert led["counterparty"].notna().mean() > 0.3


def _norm(v):
    if v is None or (isinstance(v, float) and v != v) or str(v) in ("", "NaT", "None", "nan"):
        return ""
    if isinstance(v, float) and v == 0:
        return ""
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d")
    try:
        return f"{float(v):.2f}"
    except (TypeError, ValueError):
        return str(v)[:10] if str(v)[:4].isdigit() and "-" in str(v)[:8] else str(v)


# ---- hand-made files in the shapes real systems write --------------------------------------------------------

def _write_xls(path: Path, rows: list[list], sheet: str = "凭证列表#2024年第3期"):
    import datetime as dt

    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet)
    datefmt = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if isinstance(v, dt.date):
                ws.write(i, j, v, datefmt)
            elif v != "":
                ws.write(i, j, v)
    wb.save(str(path))


def test_ole2_xls_from_kingdee_with_date_cells(tmp_path):
    import datetime as dt

    src = tmp_path / "城关镇" / "新塘村"
    src.mkdir(parents=True)
    rows = [["凭证列表"], ["城关镇新塘村股份经济合作社", "", "", "", "2024年第3期"],
            ["日期", "凭证字号", "摘要", "科目", "借方金额", "贷方金额", "制单人", "审核人"],
            [dt.date(2024, 3, 5), "记-7", "付城关建材店材料款", "121001 库存物资_材料", "1,200.00", "", "张会计", "未审核"],
            ["", "", "付城关建材店材料款", "211001 应付款_城关建材店", "", "1200", "", ""],
            [45360, "记-8", "收到租金", "102001 银行存款_基本户", "800", "", "张会计", ""],
            ["", "", "收到租金", "501001 经营收入_租赁", "", "800", "", ""]]
    _write_xls(src / "凭证列表 (2).XLS", rows)
    assert sniff((src / "凭证列表 (2).XLS").read_bytes()) == "xls"
    ex, v = run_extract(tmp_path, county(tmp_path))
    assert not ex.problems, ex.problems
    led = v["ledger"].clean.sort_values("_row")
    assert list(led["_row"]) == [4, 5, 6, 7]
    assert (led["village_code"] == VILLAGE).all()  # 新塘村 is in two townships: the title's 城关镇 decides
    assert str(led["entry_date"].iat[2])[:10] == "2024-03-09"  # an Excel serial number (45360) in a date column
    assert led["counterparty"].iat[0] == "城关建材店" and led["counterparty_source"].iat[0] in ("voucher", "summary")


def test_spreadsheetml_saved_as_xls_and_html_with_two_level_header(tmp_path):
    d = tmp_path / "石门镇" / "上溪股份经济合作社"
    d.mkdir(parents=True)
    xml = ('<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
           'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="户籍"><Table>'
           '<Row><Cell><Data ss:Type="String">上溪村户籍花名册</Data></Cell></Row>'
           '<Row><Cell><Data ss:Type="String">户号</Data></Cell><Cell><Data ss:Type="String">姓名</Data></Cell>'
           '<Cell><Data ss:Type="String">身份证号码</Data></Cell><Cell><Data ss:Type="String">状态</Data></Cell></Row>'
           '<Row><Cell><Data ss:Type="String">0001</Data></Cell><Cell><Data ss:Type="String">王五</Data></Cell>'
           '<Cell><Data ss:Type="String">330599195001010014</Data></Cell><Cell><Data ss:Type="String">正常</Data></Cell></Row>'
           '<Row><Cell ss:Index="2"><Data ss:Type="String">王小五</Data></Cell>'
           '<Cell><Data ss:Type="String">330599198001010013</Data></Cell><Cell><Data ss:Type="String">死亡</Data></Cell></Row>'
           '</Table></Worksheet></Workbook>')
    (d / "户籍花名册.xls").write_text(xml, encoding="utf-8")
    html = ("<html><head><meta charset=gbk></head><body><table>"
            "<tr><td colspan=8>上溪村 2024年 收支明细账</td></tr>"
            "<tr><th colspan=2>日期</th><th rowspan=2>凭证号</th><th rowspan=2>科目编码</th><th rowspan=2>摘要</th>"
            "<th colspan=2>金额</th><th rowspan=2>备注</th></tr>"
            "<tr><th>月</th><th>日</th><th>借方</th><th>贷方</th></tr>"
            "<tr><td>3</td><td>5</td><td>记-1</td><td>513001</td><td>付王五误工费</td><td>300.00</td><td></td><td>&nbsp;</td></tr>"
            "<tr><td></td><td></td><td>记-1</td><td>101001</td><td>付王五误工费</td><td></td><td>300.00</td><td></td></tr>"
            "<tr><td></td><td></td><td></td><td></td><td>本月合计</td><td>350.00</td><td>300.00</td><td></td></tr>"
            "<tr><td colspan=8>以下空白</td></tr><tr><td>制表人：李四</td><td colspan=7>审核：</td></tr>"
            "</table></body></html>")
    (d / "收支明细.xls").write_bytes(html.encode("gbk"))
    ex, v = run_extract(tmp_path, county(tmp_path))
    assert not ex.problems, ex.problems
    res = v["residents"].clean
    assert set(res["person_id"]) == {"330599195001010014", "330599198001010013"}
    assert (res["household_id"] == "0001").all()  # a merged 户号 cell over the household, filled down
    assert set(res["status"]) == {"在册", "死亡"} and (res["village_code"] == "330599102002").all()
    led = v["ledger"]
    assert led.rows_loaded == 2 and str(led.clean["entry_date"].iat[0])[:10] == "2024-03-05"
    assert led.clean["debit"].iat[0] == 300 and led.clean["counterparty"].iat[0] == "王五"
    sheet = next(s for r in ex.files for s in r.sheets if s.table == "ledger")
    assert sheet.layout == {"title": 1, "header": 2, "subtotal": 1, "end": 1, "signature": 1}
    # 本月合计 debit 350 ≠ 300: both lines get a data-quality warning that becomes a lead
    assert len(led.warnings) == 2 and led.warnings[0]["reasons"][0]["check"] == "subtotal_mismatch"
    assert "本月合计" in led.warnings[0]["reasons"][0]["message"]


def test_u8_text_in_gbk_and_a_stray_quote_in_a_csv(tmp_path):
    d = tmp_path / "城关镇" / "后山村民委员会"
    d.mkdir(parents=True)
    u8 = ("填制凭证,V800\r\n2024-05-06,记,0012,1,付后山五金店货款,121001,560.00,0,,,,会计甲,转账,88990011,,,,,后山五金店\r\n"
          "2024-05-06,记,0012,1,付后山五金店货款,102001,0,560.00,,,,会计甲,转账,,,,,,\r\n")
    (d / "U8外部凭证.txt").write_bytes(u8.encode("gbk"))
    csv = ('日期,凭证号,科目编码,摘要,借方,贷方\n2024-06-01,记-3,513001,"付张三误工费,现金",100,\n'
           '2024-06-01,记-3,101001,"付张三误工费,100\n2024-06-02,记-4,513001,办公费,50,\n2024-06-02,记-4,101001,办公费,,50\n')
    (d / "序时账_20240903150759.csv").write_text(csv, encoding="utf-8")
    ex, v = run_extract(tmp_path, county(tmp_path))
    led = v["ledger"]
    u8rows = led.clean[led.clean["_file"].str.endswith(".txt")]
    assert len(u8rows) == 2 and set(u8rows["village_code"]) == {"330599101002"}  # 后山 is an alias
    assert u8rows["invoice_no"].iat[0] == "88990011" and u8rows["counterparty"].iat[0] == "后山五金店"
    # the unterminated quote costs one line, quarantined with its row; the lines after it are read
    csvrows = led.clean[led.clean["_file"].str.endswith(".csv")]
    assert sorted(csvrows["_row"]) == [2, 4, 5]
    broken = [q for q in led.quarantine if q["source_file"].endswith(".csv")]
    assert [q["source_row"] for q in broken] == [3] and "引号" in broken[0]["reasons"][0]["message"]
    assert led.rows_read == led.rows_loaded + led.rows_quarantined == 6


def test_a_file_that_fits_no_profile_or_village_is_reported_and_the_rest_load(tmp_path):
    d = tmp_path / "不明"
    d.mkdir()
    (d / "说明.csv").write_text("项目,说明\n备注,这是一份说明\n", encoding="utf-8")
    (d / "序时账.csv").write_text("日期,凭证号,科目编码,借方,贷方\n2024-01-02,1,513001,10,\n2024-01-02,1,101001,,10\n",
                                 encoding="utf-8")
    good = tmp_path / "城关镇" / "新塘村"
    good.mkdir(parents=True)
    (good / "序时账.csv").write_text("日期,凭证号,科目编码,借方,贷方\n2024-01-02,1,513001,10,\n2024-01-02,1,101001,,10\n",
                                    encoding="utf-8")
    ex, v = run_extract(tmp_path, county(tmp_path))
    msgs = " ".join(p.message for p in ex.problems)
    assert "说明.csv" in msgs and "无法识别表格类型" in msgs
    assert "不明/序时账.csv" in msgs and "无法确定所属村" in msgs
    assert v["ledger"].rows_loaded == 2


def test_village_names_as_people_write_them():
    d = VillageDirectory.load(_dir_file())
    for text in ("新塘村股份经济合作社", "城关镇新塘村村民委员会", "城关镇 新塘经济合作社 2024年序时账", "新塘村委会"):
        assert d.match(text, "城关镇").code == "330599101001", text
    assert d.match("石门镇新塘村").code == "330599102001"
    amb = d.match("新塘村2024年账")
    assert amb.code is None and amb.ambiguous == ["330599101001", "330599102001"]
    assert d.match("上溪股份经济合作社").code == "330599102002"
    assert d.match("城关镇").code is None  # a township alone never names a village
    assert village_core("后山村股份经济合作社") == "后山"


def _dir_file() -> Path:
    import tempfile

    p = Path(tempfile.mkdtemp()) / "dir.csv"
    p.write_text("代码,名称,乡镇,别名\n330599101001,新塘村,城关镇,\n330599101002,后山村,城关镇,后山\n"
                 "330599102001,新塘村,石门镇,\n330599102002,上溪村,石门镇,上溪股份经济合作社\n", encoding="utf-8")
    return p


def test_split_text_recovers_after_an_unterminated_quote():
    rows, broken = split_text('a,b\n1,"x\n2,y\n3,"multi\nline",z\n4,w\n')
    assert [r for r in rows if r] == [["a", "b"], ["2", "y"], ["3", "multi\nline", "z"], ["4", "w"]]
    assert [b[0] for b in broken] == [2]
    assert len(rows) == 6  # the continuation line keeps its place, so row numbers stay exact


def test_county_profile_overrides_and_bad_profiles_are_refused(tmp_path):
    from sanzi_audit.imports.profiles import ProfileError, load_profile

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntitle: x\ntable: ledger\ncolumns: {no_such_field: [甲]}\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="no_such_field"):
        load_profile(bad)
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: my_journal\ntitle: 本县序时账\ntable: ledger\npriority: 99\n"
                    "match: {headers: [account_code, amount]}\n"
                    "columns: {entry_date: [记账时间], voucher_num: [单据号], account_code: [会计科目代码], amount: [发生金额]}\n",
                    encoding="utf-8")
    src = tmp_path / "src" / "城关镇" / "新塘村"
    src.mkdir(parents=True)
    (src / "导出.csv").write_text("记账时间,单据号,会计科目代码,发生金额\n2024-02-01,5,513001,20\n2024-02-01,5,101001,-20\n",
                                 encoding="utf-8")
    cfg = county(tmp_path, f"imports: {{profiles: ['{mine}']}}\n")
    ex, v = run_extract(tmp_path / "src", cfg)
    assert not ex.problems
    assert ex.files[0].sheets[0].profile == "my_journal"
    led = v["ledger"].clean.sort_values("_row")
    assert list(led["debit"].fillna(0)) == [20, 0] and list(led["credit"].fillna(0)) == [0, 20]


def test_inspect_explains_every_file(tmp_path, tiny):
    import subprocess
    import sys

    from sanzi_audit.synth import write

    out = write(tiny, tmp_path / "mx", fmt="mixed", seed=2)
    r = subprocess.run([sys.executable, "-m", "sanzi_audit.cli", "inspect", str(out), "--config",
                        str(out / "_county" / "county.yaml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    for needle in ("金蝶 凭证列表", "用友 序时账", "村级三资系统", "一卡通", "表头: 第", "数据行", "村: 3305"):
        assert needle in r.stdout, needle
    import re

    assert not re.search(r"(?<![0-9A-Za-z])\d{15,}", r.stdout)  # ID and account numbers masked in the examples
    (out / "城关镇").mkdir(exist_ok=True)
    (out / "不明.csv").write_text("甲,乙\n1,2\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "sanzi_audit.cli", "inspect", str(out / "不明.csv"), "--config",
                        str(out / "_county" / "county.yaml")], capture_output=True, text=True)
    assert r.returncode == 1 and "无法识别表格类型" in r.stdout


def test_reader_uses_workbook_content_not_extension(tmp_path):
    p = tmp_path / "a.xls"
    p.write_text("<table><tr><td>科目编码</td></tr></table>", encoding="utf-8")
    assert read_workbook(p).kind == "html"
    assert reader.TABLE_SUFFIXES >= {".xls", ".xlsx", ".csv", ".txt", ".htm", ".html"}


def test_no_two_columns_fold_to_the_same_header():
    """Header folding (帐/账, 号码/号 …) must never make two different columns' names collide (分录编号 is an id,
    分录号 a line number): a collision maps a column onto the wrong field without a word."""
    from sanzi_audit.contract import TABLES
    from sanzi_audit.imports.profiles import builtin_profiles, header_key

    groups = [(t.name, {c.name: (c.name, *c.aliases) for c in t.columns}) for t in TABLES.values()]
    groups += [(p.name, {f: (f, *names) for f, names in p.columns.items()}) for p in builtin_profiles()]
    for where, fields in groups:
        seen: dict[str, str] = {}
        for field, names in fields.items():
            for n in names:
                other = seen.setdefault(header_key(n), field)
                assert other == field, f"{where}: “{n}” folds onto both {other} and {field}"


def test_a_night_on_real_layouts_names_the_file_and_row_of_every_evidence_record(tmp_path, tiny, prefect_harness):
    import re

    import sqlalchemy as sa

    from sanzi_audit import store
    from sanzi_audit.flows.nightly import nightly
    from sanzi_audit.synth import write
    from sanzi_audit.web import queries

    out = write(tiny, tmp_path / "mx", fmt="mixed", seed=4)
    db = f"sqlite:///{tmp_path / 'review.db'}"
    s = nightly(source=str(out), db=db, config_path=str(out / "_county" / "county.yaml"))
    assert s.status == "success", s.problems
    assert all(c.read == c.loaded + c.quarantined for c in s.counts)
    led = next(c for c in s.counts if c.table == "ledger")
    assert led.files == 7 and led.layout > 0
    engine = store.connect(db)
    with engine.connect() as c:
        ev = pd.read_sql_query(sa.text("SELECT * FROM lead_evidence"), c)
        lead = c.execute(sa.text("SELECT l.lead_id FROM leads l JOIN lead_evidence e USING (lead_id) "
                                 "WHERE e.source_table = 'ledger' ORDER BY l.rank LIMIT 1")).scalar()
    assert len(ev) and ev["source_file"].notna().all() and ev["source_row"].notna().all()
    block = next(b for b in queries.evidence(engine, lead, unmask=False) if b["table"] == "ledger")
    assert block["headers"][0] == "来源"
    label = block["rows"][0][0]
    m = re.fullmatch(r"(.+?)(?:［(.+)］)? 第 (\d+) 行", label)
    assert m, label
    wb = read_workbook(out / m.group(1))
    sheet = next(sh for sh in wb.sheets if m.group(2) in (None, sh.name)) if m.group(2) else wb.sheets[0]
    cells = sheet.rows[int(m.group(3)) - sheet.first_row]
    row = block["rows"][0]
    debit = next(row[block["headers"].index(h)] for h in ("借方金额", "贷方金额")
                 if h in block["headers"] and row[block["headers"].index(h)])
    assert any(_norm(c) == _norm(debit.replace(",", "")) or _norm(c.replace(",", "")) == _norm(debit.replace(",", ""))
               for c in cells if c), (label, cells, debit)


def test_payees_written_only_in_summary_text():
    from sanzi_audit.imports.derive import summary_party

    got = summary_party(pd.Series(["支付王燕3组桥梁加固工程增项款(合同号HT1)", "付张三误工补贴", "支付陈龙路灯维护费用",
                                   "支付杨龙4组停车场铺装(一期)工程款", "支付杨龙(个体)4组停车场铺装(五期)工程款",
                                   "支付城关建材店材料款", "付演示县庄头建材有限公司购买维修材料", "支付临时用工劳务费",
                                   "支付5月电费", "报销办公费"])).tolist()
    assert got[:7] == ["王燕", "张三", "陈龙", "杨龙", "杨龙", "城关建材店", "演示县庄头建材有限公司"]
    assert all(x != x or x is None for x in got[7:])  # no name: nothing made up


def test_utf16_text_is_read_and_garbage_behind_a_bom_is_refused():
    from sanzi_audit.imports.grid import GridError, decode

    assert decode("科目编码,借方\r\n513001,5\r\n".encode("utf-16"))[0].startswith("科目编码")
    with pytest.raises(GridError, match="编码"):
        decode(b"\xff\xfe\x00garbage\x81\x00")  # UTF-16 would decode it as mojibake


def test_a_file_whose_4096th_byte_splits_a_character_is_still_sniffed_right(tmp_path):
    """Found by bench/fuzz.py at example 9,900: an HTML export written on one line, a Chinese character across the
    4 KB sniffing boundary, read as CSV."""
    from sanzi_audit.imports.grid import read_workbook, sniff

    for cell in ("张三", "小计", "新塘村 2024年 序时账（第1页）", "城关建材店"):
        for pad in range(12):  # some of these offsets put a 3-byte character across byte 4096
            body = "<html><body><table>" + "x" * pad + "".join(
                f"<tr><td>2024-01-01</td><td>{cell}</td></tr>" for _ in range(300))
            data = (body + "</table></body></html>").encode("utf-8")
            assert sniff(data) == "html", (cell, pad)
    p = tmp_path / "序时账.xls"
    p.write_bytes(data)
    assert read_workbook(p).sheets[0].rows[0][1] == "城关建材店"


def test_bank_statements_in_three_bank_shapes_read_back_to_the_same_rows(tmp_path):
    """借方/贷方 xlsx, 交易金额 + 收支标志 in HTML-as-xls with the time in the date cell, 收入/支出 in GBK CSV: every
    row loads, in its village (placed by the 户名 in the title), with its own account from the title, and no
    balance breaks."""
    from sanzi_audit.synth import SynthOptions, generate, write

    county = generate(SynthOptions(villages=4, seed=5, vouchers_per_village=120, bank=True), load_config())
    out = write(county, tmp_path / "bank", fmt="mixed", seed=1)
    config = load_config(out / "_county" / "county.yaml")
    ex = extract(out, config=config)
    assert not ex.problems, ex.problems
    got = validate_all(ex, config)["bank"]
    canon = county.tables["bank"]
    assert got.rows_read == got.rows_loaded == len(canon) and not got.quarantine and not got.warnings
    shapes = {Path(f).suffix for f in got.clean["_file"]}
    assert shapes == {".xlsx", ".xls", ".csv"}
    rows = pd.read_csv(out / "_truth" / "rows.csv", dtype=str).fillna({"source_sheet": ""})
    where = rows[rows["source_table"] == "bank"]
    loaded = got.clean.assign(_sheet=got.clean["_sheet"].fillna(""), _row=got.clean["_row"].astype(str))
    m = where.merge(loaded, left_on=["source_file", "source_sheet", "source_row"], right_on=["_file", "_sheet", "_row"])
    assert len(m) == len(canon)
    want = canon.set_index("txn_id").reindex(m["record_id"])
    for c in ("village_code", "account_no", "amount_out", "amount_in", "balance", "counterparty_account"):
        a = pd.Series(want[c].to_numpy()).map(_norm)
        b = pd.Series(m[c].to_numpy()).map(_norm)
        assert (a == b).all(), f"bank.{c}: {list(zip(a[a != b][:3], b[a != b][:3], strict=False))}"
    assert (pd.Series(m["txn_date"].to_numpy()).map(_norm) == pd.Series(want["txn_date"].to_numpy()).map(_norm)).all()


def test_a_missing_statement_row_becomes_a_data_quality_lead_naming_file_and_row(tmp_path):
    """A 银行流水 with one row cut out: every row still loads, and the row after the gap is named in a data-quality
    lead (file, row, the balance expected and the one written)."""
    from sanzi_audit.pipeline import quality_leads

    src = tmp_path / "src"
    (src / "城关镇" / "新塘村").mkdir(parents=True)
    rows = [["演示县农村商业银行 对公账户交易明细"], ["账号：201101100100000001"], ["户名：新塘村股份经济合作社"],
            ["交易日期", "摘要", "借方发生额", "贷方发生额", "余额", "对方户名", "对方账号", "流水号"],
            ["2024-03-01", "转账收入", "", "5000.00", "105000.00", "演示县财政局", "9001", "1"],
            ["2024-03-02", "转账支出", "1200.00", "", "103800.00", "张三", "6228001", "2"],
            # row 3 (支出 800.00 → 103000.00) is missing from the export
            ["2024-03-05", "转账支出", "500.00", "", "102500.00", "李四", "6228002", "4"]]
    text = "\n".join(",".join(r) for r in rows) + "\n"
    (src / "城关镇" / "新塘村" / "银行流水.csv").write_bytes(text.encode("gbk"))
    ex, v = run_extract(src, county(tmp_path))
    assert [p.table for p in ex.problems] == ["ledger"]  # only the books are missing from this folder
    bank = v["bank"]
    assert bank.rows_read == bank.rows_loaded == 3 and bank.clean["village_code"].eq("330599101001").all()
    assert bank.clean["account_no"].eq("201101100100000001").all()
    leads = quality_leads(v)
    assert len(leads) == 1
    ld = leads[0]
    assert "银行流水" in ld.title and "第 7 行" in ld.explanation and "余额应为 103,300.00" in ld.explanation
