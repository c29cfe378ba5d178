"""Property-based tests over the readers and validators: layouts, headers, encodings and values we did not write.

Each example builds a journal in a random layout (title rows, header spelling, column order, unknown columns, blank
and subtotal rows, file format and encoding) and checks that every data row is loaded or quarantined, every layout
row is counted, and the amounts come back. A second property throws any table with empty, missing, garbage or
mistyped columns at validation and checks read = loaded + quarantined.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanzi_audit.config import load_config
from sanzi_audit.contract import TABLES
from sanzi_audit.pipeline import validate_all
from sanzi_audit.sources import Extract, RawTable, extract

HEADERS = {
    "entry_date": ["日期", "记账日期", "凭证日期", "日 期", "日期*"],
    "voucher": ["凭证号", "凭证编号", "凭证字号", "凭 证 号"],
    "account_code": ["科目编码", "科目代码", "科目编号", "科目 代码", "科目编码\u3000", "科　目　编　码"],
    "summary": ["摘要", "摘 要", "业务摘要"],
    "debit": ["借方金额", "借方", "借方金额（元）", "借方发生额"],
    "credit": ["贷方金额", "贷方", "贷方金额(元)", "贷方发生额"],
    "counterparty": ["往来单位", "收款人", "收款单位"],
    "counterparty_account": ["收款账号", "收款帐号", "银行账号", "银行帐号"],
}
UNKNOWN = ["附件数", "备注", "项目", "经手人签字", "打印次数"]
SUBTOTALS = ["小计", "本月合计", "合计", "以下空白"]


@st.composite
def journals(draw):
    n = draw(st.integers(1, 25))
    lines = []
    for k in range(n):
        side = draw(st.sampled_from(["debit", "credit"]))
        amount = draw(st.decimals(min_value="0.01", max_value="999999.99", places=2))
        lines.append(dict(entry_date=(dt.date(2024, 1, 1) + dt.timedelta(days=draw(st.integers(0, 300)))).isoformat(),
                          voucher=f"记-{k // 2 + 1}", account_code=draw(st.sampled_from(["101001", "102001", "513001",
                                                                                        "121001", "211001"])),
                          summary=draw(st.text(alphabet="付支材料款费，,\"' 张王李", max_size=12)),
                          debit=f"{amount:,}" if side == "debit" else "", credit=f"{amount}" if side == "credit" else "",
                          counterparty=draw(st.sampled_from(["", "张三", "城关建材店", "某某有限公司"])),
                          counterparty_account=draw(st.sampled_from(["", "6228480012345678901", "6230 5812 3456 7890"]))))
    fields = draw(st.permutations(list(HEADERS)))
    keep = [f for f in fields if f in ("entry_date", "voucher", "account_code", "debit", "credit")
            or draw(st.booleans())]
    header = [draw(st.sampled_from(HEADERS[f])) for f in keep]
    unknown = draw(st.lists(st.sampled_from(UNKNOWN), max_size=2, unique=True))
    titles = draw(st.integers(0, 5))
    layout_rows = draw(st.lists(st.tuples(st.integers(0, n), st.sampled_from(["blank", *SUBTOTALS])), max_size=4))
    fmt = draw(st.sampled_from(["csv-utf8", "csv-bom", "csv-gbk", "xlsx", "html"]))
    return lines, keep, header, unknown, titles, layout_rows, fmt


def _write(path: Path, rows: list[list[str]], fmt: str) -> Path:
    if fmt.startswith("csv"):
        import csv
        import io

        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        enc = {"csv-utf8": "utf-8", "csv-bom": "utf-8-sig", "csv-gbk": "gbk"}[fmt]
        p = path.with_suffix(".csv")
        p.write_bytes(buf.getvalue().encode(enc, errors="replace"))
        return p
    if fmt == "xlsx":
        import xlsxwriter

        p = path.with_suffix(".xlsx")
        wb = xlsxwriter.Workbook(str(p))
        ws = wb.add_worksheet("序时账")
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                if v != "":
                    ws.write_string(i, j, v)
        wb.close()
        return p
    import html

    p = path.with_suffix(".xls")
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in rows)
    p.write_text(f"<html><body><table>{body}</table></body></html>", encoding="utf-8")
    return p


def _county(tmp: Path) -> Path:
    d = tmp / "_county"
    d.mkdir(exist_ok=True)
    (d / "dir.csv").write_text("代码,名称,乡镇\n330599101001,新塘村,城关镇\n", encoding="utf-8")
    (d / "county.yaml").write_text("region: {name: 演示县, county_code: '330599', village_directory: dir.csv}\n",
                                   encoding="utf-8")
    return d / "county.yaml"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(journals())
def test_any_layout_every_row_loaded_or_quarantined_and_every_layout_row_counted(tmp_path_factory, example):
    check_layout(tmp_path_factory.mktemp("prop"), example)


def check_layout(tmp: Path, example) -> None:
    """One journal in one layout: read back whole, every row loaded or quarantined, every layout row counted
    (also run 10,000 times by bench/fuzz.py)."""
    lines, keep, header, unknown, titles, layout_rows, fmt = example
    folder = tmp / "城关镇" / "新塘村股份经济合作社"
    folder.mkdir(parents=True)
    width = len(header) + len(unknown)
    rows: list[list[str]] = [[f"新塘村 2024年 序时账（第{t + 1}页）"] + [""] * (width - 1) for t in range(titles)]
    rows.append(header + unknown)
    inserted = {"blank": 0, "subtotal": 0, "end": 0}
    where = sorted(layout_rows)
    k = 0
    for i, line in enumerate(lines):
        while k < len(where) and where[k][0] == i:
            kind = where[k][1]
            if kind == "blank":
                rows.append([""] * width)
                inserted["blank"] += 1
            else:
                rows.append([""] * (width - 1) + [kind] if width > 1 else [kind])
                inserted["end" if kind == "以下空白" else "subtotal"] += 1
            k += 1
        rows.append([line[f] for f in keep] + ["x"] * len(unknown))
    path = _write(folder / "序时账 (2)", rows, fmt)
    config = load_config(_county(tmp))
    ex = extract(tmp, config=config)
    sheets = [s for r in ex.files for s in r.sheets]
    assert sheets and all(s.profile for s in sheets), [p.message for p in ex.problems]
    s = sheets[0]
    assert s.data_rows == len(lines)
    raw = ex.tables["ledger"]
    assert raw.rows_read == len(lines)
    got = dict(s.layout)
    assert got.get("title", 0) == titles and got.get("header", 0) == 1
    # trailing blank rows of a CSV vanish with the line ends; every other inserted row is counted as what it is
    if not fmt.startswith("csv"):
        assert got.get("blank", 0) + got.get("subtotal", 0) + got.get("end", 0) == sum(inserted.values())
    # every value that was written comes back on its row
    f = raw.frame.sort_values("_row")
    sent = [x["debit"].replace(",", "") or None for x in lines]
    back = [None if v in ("", None) or (isinstance(v, float) and v != v) else str(v).replace(",", "") for v in f["debit"]]
    assert back == sent, path


@st.composite
def raw_tables(draw):
    name = draw(st.sampled_from(list(TABLES)))
    table = TABLES[name]
    n = draw(st.integers(1, 12))
    cols = {}
    for c in table.columns:
        mode = draw(st.sampled_from(["ok", "ok", "empty", "missing", "garbage", "number"]))
        if mode == "missing" and not c.required:
            continue
        if mode == "empty":
            cols[c.name] = [""] * n
        elif mode == "garbage":
            cols[c.name] = draw(st.lists(st.text(max_size=8), min_size=n, max_size=n))
        elif mode == "number":
            cols[c.name] = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n))
        else:
            sample = {"date": "2024-03-05", "amount": "1,234.50", "number": "3.5", "code": "330599101001"}.get(c.kind, "甲")
            cols[c.name] = [sample] * n
    frame = pd.DataFrame(cols, dtype=object)
    frame = frame.sample(frac=1, random_state=draw(st.integers(0, 1000))).reset_index(drop=True)
    frame["_row"] = pd.array(range(2, n + 2), dtype="int64")
    frame["_file"] = f"{name}.csv"
    frame["_seq"] = pd.array(range(n), dtype="int64")
    return name, frame


@settings(max_examples=100, deadline=None)
@given(raw_tables())
def test_any_table_validates_with_every_row_accounted_for(example):
    check_table(example)


def check_table(example) -> None:
    """Any table, any columns empty, missing, garbage or mistyped: validation completes with read = loaded +
    quarantined (also run 10,000 times by bench/fuzz.py)."""
    name, frame = example
    ex = Extract(tables={name: RawTable(name, f"{name}.csv", frame)})
    v = validate_all(ex, load_config())[name]
    assert v.rows_read == len(frame) == v.rows_loaded + v.rows_quarantined


@st.composite
def statements(draw):
    """A bank statement in any of the shapes banks write, with a consistent running balance."""
    n = draw(st.integers(3, 20))
    balance = draw(st.decimals(min_value="1000.00", max_value="500000.00", places=2))
    rows = []
    for k in range(n):
        out = draw(st.booleans())
        amt = draw(st.decimals(min_value="0.01", max_value="900.00", places=2))
        balance = balance - amt if out else balance + amt
        rows.append(dict(day=dt.date(2024, 1, 1) + dt.timedelta(days=k), out=out, amount=amt, balance=balance,
                         name=draw(st.sampled_from(["张三", "演示县财政局", "", "某某有限公司"])), serial=str(k + 1)))
    shape = draw(st.sampled_from(["columns", "flag", "signed", "in_out"]))
    newest_first = draw(st.booleans())
    with_time = draw(st.booleans())
    titles = draw(st.booleans())
    # a row cut out of the middle: rows on both sides of it (a cut last row leaves nothing to disagree with; only the
    # statement's closing balance in the title could show it, and that is not read)
    gap = draw(st.one_of(st.none(), st.integers(1, n - 2)))
    fmt = draw(st.sampled_from(["csv-utf8", "csv-gbk", "xlsx", "html"]))
    return rows, shape, newest_first, with_time, titles, gap, fmt


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(statements())
def test_any_bank_statement_reads_back_and_only_a_cut_row_breaks_the_balance(tmp_path_factory, example):
    rows, shape, newest_first, with_time, titles, gap, fmt = example
    tmp = tmp_path_factory.mktemp("bank")
    folder = tmp / "城关镇" / "新塘村股份经济合作社"
    folder.mkdir(parents=True)
    head = {"columns": ["交易日期", "摘要", "借方发生额", "贷方发生额", "余额", "对方户名", "流水号"],
            "flag": ["交易日期", "交易金额", "收支标志", "余额", "对方户名", "交易流水号"],
            "signed": ["交易日期", "交易金额", "余额", "对方户名", "流水号"],
            "in_out": ["日期", "收入金额", "支出金额", "余额", "对方户名", "流水号"]}[shape]
    body = []
    kept = [r for i, r in enumerate(rows) if i != gap]
    for r in (reversed(kept) if newest_first else kept):
        day = r["day"].isoformat() + (" 10:15:00" if with_time and shape != "in_out" else "")
        a = f"{r['amount']}"
        cells = {"columns": [day, "转账", a if r["out"] else "", "" if r["out"] else a],
                 "flag": [day, a, "支" if r["out"] else "收"],
                 "signed": [day, f"-{a}" if r["out"] else a],
                 "in_out": [r["day"].strftime("%Y%m%d"), "" if r["out"] else a, a if r["out"] else ""]}[shape]
        body.append([*cells, f"{r['balance']}", r["name"], r["serial"]])
    title = ([["演示县农村商业银行 对公账户交易明细"], ["账号：201101100100000001"], ["户名：新塘村股份经济合作社"]]
             if titles else [])
    _write(folder / "交易明细", [*title, head, *body], fmt)
    config = load_config(_county(tmp))
    ex = extract(tmp, config=config)
    v = validate_all(ex, config)["bank"]
    assert v.rows_read == len(kept) == v.rows_loaded + v.rows_quarantined
    if not titles:  # no own account anywhere: every row is quarantined for it, named, none lost
        assert v.rows_quarantined == len(kept)
        return
    assert v.rows_loaded == len(kept), v.quarantine[:2]
    got = v.clean.sort_values("txn_date")
    assert [round(x, 2) for x in got["amount_out"].fillna(0)] == [float(r["amount"]) if r["out"] else 0 for r in kept]
    assert [round(x, 2) for x in got["amount_in"].fillna(0)] == [0 if r["out"] else float(r["amount"]) for r in kept]
    breaks = [w for w in v.warnings if any(x["check"] == "balance_break" for x in w["reasons"])]
    assert len(breaks) == (0 if gap is None else 1), [w["reasons"] for w in breaks]
