"""The synthetic county written the way real systems export it: ``sanzi synth --format kingdee|yonyou|sanzi-system|mixed``.

Each village's books go to ``乡镇/村/…`` in one family's layout (title rows, first-line-only dates, 科目 in one cell,
one amount with 方向 or a sign, 月/日 columns with the year in the title, HTML saved as .xls, 本月合计/本年累计
rows, 以下空白 and signature rows, GBK text …). Township offices send the 一卡通 rolls (two-level headers, three
people a row, a 合计 row) and the cadre register (one row per relative); villages send their 合同台账 and 户籍花名册.
The county config and village directory go to ``_county/`` and the answer key to ``_truth/`` — names the reader
leaves out. The truth is keyed by file, sheet and row, so ``sanzi eval`` checks what the reader made of each row.

None of this shares code with the reader: it writes what the families look like (../shared/real-formats/LAYOUTS.md),
and the reader has to find its way through it.
"""

from __future__ import annotations

import datetime as dt
import html
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

LEDGER_FORMATS = ("kingdee_list", "kingdee_entries", "kingdee_k3", "yonyou_u8", "yonyou_journal", "yonyou_detail",
                  "sanzi_html")
FAMILIES = {"kingdee": ("kingdee_list", "kingdee_entries", "kingdee_k3"),
            "yonyou": ("yonyou_u8", "yonyou_journal", "yonyou_detail"),
            "sanzi-system": ("sanzi_html",), "mixed": LEDGER_FORMATS}
CN_MONTH = "一二三四五六七八九十"


def _month_name(m: int) -> str:
    return {10: "十月", 11: "十一月", 12: "十二月"}.get(m, f"{CN_MONTH[m - 1]}月")


class Locator:
    """Where each canonical record was written: (table, record id) → (file, sheet, row)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], tuple[str, str | None, int]] = {}

    def put(self, table: str, rid: str, file: str, sheet: str | None, row: int) -> None:
        self.rows.setdefault((table, str(rid)), (file, sheet, row))


def _money(v) -> str:
    return "" if v is None or (isinstance(v, float) and (v != v or v == 0)) else f"{float(v):.2f}"


def _d(v) -> dt.date | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    return v if isinstance(v, dt.date) else pd.Timestamp(v).date()


def _s(v) -> str:
    return "" if v is None or (isinstance(v, float) and v != v) else str(v)


def _summary(r) -> str:
    """摘要 as village accountants write it: the payee, the contract and the invoice in the text."""
    text = _s(r.summary)
    party = _s(r.counterparty)
    if party and float(r.debit or 0) > 0 and party not in text and not str(r.account_code).startswith(("101", "102")):
        text = text.replace("支付", f"支付{party}", 1) if text.startswith("支付") else f"付{party}{text}"
    if _s(r.contract_no):
        text += f"（合同号{r.contract_no}）"
    if _s(r.invoice_no):
        text += f" 发票号{r.invoice_no}"
    return text


def _is_person(name: str) -> bool:
    return 2 <= len(name) <= 4 and not any(k in name for k in ("公司", "店", "厂", "社", "部", "中心", "队"))


def _vouchers(ledger: pd.DataFrame) -> pd.DataFrame:
    v = ledger.copy()
    v["num"] = v["voucher_no"].astype(str).str.extract(r"(\d+)$")[0].astype(int)
    v["date"] = v["entry_date"].map(_d)
    v["first"] = ~v.duplicated("voucher_no")
    return v


# ---- writers (xlsx through xlsxwriter, text, HTML) -----------------------------------------------------------

def _xlsx(path: Path, sheets: list[tuple[str, list[list]]]) -> None:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    for name, rows in sheets:
        ws = wb.add_worksheet(name[:31])
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is None or v == "":
                    continue
                if isinstance(v, dt.date):
                    ws.write_string(i, j, v.isoformat())
                elif isinstance(v, int | float) and not isinstance(v, bool):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))
    wb.close()


def _text(path: Path, rows: list[list], encoding: str, sep: str = ",") -> None:
    import csv
    import io

    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    path.write_bytes(buf.getvalue().encode(encoding))


def _html(path: Path, title: str, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = ['<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>',
           f"<table border=1><tr><td colspan={len(header)}>{html.escape(title)}</td></tr>",
           "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{html.escape(_s(v))}</td>" for v in r) + "</tr>")
    out.append("</table></body></html>")
    path.write_bytes("\n".join(out).encode("gb18030"))


# ---- ledgers, one function per family --------------------------------------------------------------------

def _kingdee_list(v: pd.DataFrame, unit: str, year: int, path: Path, rel: str, loc: Locator) -> None:
    """金蝶 凭证列表: one sheet per period, 日期/凭证字号/制单人 on a voucher's first line, 科目 "code name_sub"."""
    sheets = []
    for m in range(1, 13):
        part = v[v["date"].map(lambda d, m=m: d.month == m)]
        name = f"凭证列表#{year}年第{m}期"
        rows = [["凭证列表", "", "", "", "", "", "", ""], [unit, "", "", "", f"{year}年第{m}期", "", "", ""],
                ["日期", "凭证字号", "摘要", "科目", "借方金额", "贷方金额", "制单人", "审核人"]]
        for r in part.itertuples():
            subject = f"{r.account_code} {_s(r.account_name).replace('-', '_')}"
            if _s(r.counterparty) and str(r.account_code)[:3] in ("211", "212", "213", "202", "112", "113"):
                subject += f"_{r.counterparty}"
            rows.append([r.date.isoformat() if r.first else "", f"记-{r.num}" if r.first else "", _summary(r), subject,
                         _money(r.debit), _money(r.credit), _s(r.handler) if r.first else "",
                         (_s(r.approver) or "未审核") if r.first else ""])
            loc.put("ledger", r.entry_id, rel, name, len(rows))
        sheets.append((name, rows))
    _xlsx(path, sheets)


def _kingdee_entries(v: pd.DataFrame, unit: str, year: int, path: Path, rel: str, loc: Locator) -> None:
    header = ["日期", "凭证字", "凭证号", "附件数", "分录序号", "摘要", "科目代码", "科目名称", "借方金额", "贷方金额", "客户",
              "供应商", "职员", "项目", "部门", "存货", "是否限定", "自定义辅助核算类别", "自定义辅助核算编码", "数量", "单价",
              "原币金额", "币别", "汇率"]
    rows = [header]
    for r in v.itertuples():
        party = _s(r.counterparty)
        person = party if party and _is_person(party) else ""
        supplier = party if party and not person else ""
        amount = float(r.debit or 0) or float(r.credit or 0)
        rows.append([r.date.isoformat(), "记", r.num, 1, int(r.line_no), _summary(r), r.account_code,
                     _s(r.account_name), float(r.debit) if float(r.debit or 0) else "",
                     float(r.credit) if float(r.credit or 0) else "", "", supplier, person, "", "", "", "", "", "", "",
                     "", amount, "RMB", 1])
        loc.put("ledger", r.entry_id, rel, "AccountEntries", len(rows))
    _xlsx(path, [("AccountEntries", rows)])


def _kingdee_k3(v: pd.DataFrame, unit: str, year: int, path: Path, rel: str, loc: Locator) -> None:
    header = ["凭证日期", "会计年度", "会计期间", "凭证字", "凭证号", "科目代码", "科目名称", "币别代码", "币别名称", "原币金额",
              "借方", "贷方", "制单", "审核", "核准", "出纳", "经办", "结算方式", "结算号", "凭证摘要", "数量", "数量单位", "单价",
              "参考信息", "业务日期", "往来业务编号", "附件数", "序号", "系统模块", "业务描述", "汇率类型", "汇率", "分录序号",
              "核算项目", "过账", "机制凭证", "现金流量"]
    rows = [header]
    for r in v.itertuples():
        party = _s(r.counterparty)
        item = ""
        if party:
            item = f"{'职员' if _is_person(party) else '供应商'}---{zlib.crc32(party.encode()) % 10000:04d}---{party}"
        code = str(r.account_code)
        dotted = f"{code[:3]}.{code[3:]}" if len(code) > 3 else code
        amount = float(r.debit or 0) or float(r.credit or 0)
        rows.append([r.date.isoformat(), year, r.date.month, "记", r.num, dotted, _s(r.account_name), "RMB", "人民币",
                     amount, float(r.debit or 0), float(r.credit or 0), _s(r.handler) or "NONE",
                     _s(r.approver) or "NONE", "NONE", "NONE", _s(r.handler) or "NONE", _s(r.settlement) or "*", "*",
                     _summary(r), 0, "*", 0, "*", r.date.isoformat(), "*", 1, 1, "总账", "*", "公司汇率", 1,
                     int(r.line_no) - 1, item or "*", 0, 0, "*"])
        loc.put("ledger", r.entry_id, rel, "Page1", len(rows))
    _xlsx(path, [("t_Schema", [["FieldName", "FieldType"], *[[h, "文本"] for h in header]]), ("Page1", rows)])


def _yonyou_u8(v: pd.DataFrame, unit: str, year: int, path: Path, rel: str, loc: Locator) -> None:
    rows: list[list] = [["填制凭证", "V800"]]
    for r in v.itertuples():
        party = _s(r.counterparty)
        person, supplier = (party, "") if party and _is_person(party) else ("", party)
        rows.append([r.date.isoformat(), "记", r.num, 1, _summary(r), r.account_code, _money(r.debit) or 0,
                     _money(r.credit) or 0, "", "", "", _s(r.handler) or "会计", _s(r.settlement), _s(r.invoice_no), "",
                     "", person, "", supplier, "", "", _s(r.handler)])
        loc.put("ledger", r.entry_id, rel, None, len(rows))
    _text(path, rows, "gbk")


def _yonyou_journal(v: pd.DataFrame, unit: str, year: int, path: Path, rel: str, loc: Locator) -> None:
    rows = [["序时账", "", "", "", "", "", "", "", ""], [f"核算单位：{unit}", "", "", "", "", "", "", "", ""],
            [f"期间：{year}.01-{year}.12", "", "", "", "", "", "", "", ""], ["", "", "", "", "", "", "", "", "单位：元"],
            ["日期", "凭证号数", "科目编码", "科目名称", "摘要", "方向", "数量", "外币", "金额"]]
    for r in v.itertuples():
        debit = float(r.debit or 0)
        rows.append([r.date.strftime("%Y.%m.%d"), f"记-{r.num:04d}", r.account_code,
                     _s(r.account_name).replace("-", "/"), _summary(r),
                     "借" if debit else "贷", "", "", debit or float(r.credit or 0)])
        loc.put("ledger", r.entry_id, rel, "序时账", len(rows))
    _xlsx(path, [("序时账", rows)])


def _yonyou_detail(v: pd.DataFrame, unit: str, year: int, path: Path, rel: str, loc: Locator) -> None:
    """明细账 CSV (GBK): 月 | 日, the year only in the title, a 本月合计 row after each month and 本年累计."""
    rows: list[list] = [[f"{unit} {year}年 明细账"], ["月", "日", "凭证号数", "科目编码", "科目名称", "摘要", "借方", "贷方", "方向", "余额"]]
    year_d = year_c = 0.0
    for m in range(1, 13):
        part = v[v["date"].map(lambda d, m=m: d.month == m)]
        if part.empty:
            continue
        md = mc = 0.0
        for r in part.itertuples():
            d, c = float(r.debit or 0), float(r.credit or 0)
            md, mc = md + d, mc + c
            rows.append([r.date.month, r.date.day, f"记-{r.num}", r.account_code, _s(r.account_name), _summary(r),
                         _money(d), _money(c), "平", ""])
            loc.put("ledger", r.entry_id, rel, None, len(rows))
        year_d, year_c = year_d + md, year_c + mc
        rows.append(["", "", "", "", "", "本月合计", f"{md:.2f}", f"{mc:.2f}", "平", ""])
        rows.append(["", "", "", "", "", "本年累计", f"{year_d:.2f}", f"{year_c:.2f}", "平", ""])
    _text(path, rows, "gbk")


def _sanzi_html(v: pd.DataFrame, unit: str, year: int, path: Path, rel: str, loc: Locator) -> None:
    """A 三资 platform list page saved as .xls: one signed amount, 年月日 text dates, subtotals, 以下空白, signatures."""
    header = ["凭证号", "凭证类型", "凭证日期", "摘要", "科目编号", "科目名称", "金额", "制单", "审核", "附件数"]
    rows: list[list] = []
    for m in range(1, 13):
        part = v[v["date"].map(lambda d, m=m: d.month == m)]
        if part.empty:
            continue
        for r in part.itertuples():
            d, c = float(r.debit or 0), float(r.credit or 0)
            amount = d if d else -c
            rows.append([r.num if r.first else "", "记账" if r.first else "",
                         f"{r.date.year}年{r.date.month:02d}月{r.date.day:02d}日" if r.first else "", _summary(r),
                         r.account_code, _s(r.account_name), f"{amount:,.2f}", _s(r.handler) if r.first else "",
                         _s(r.approver) if r.first else "", 1 if r.first else ""])
            loc.put("ledger", r.entry_id, rel, None, len(rows) + 2)  # title and header rows above
        rows.append(["", "", "", "本月合计", "", "", f"{part['debit'].astype(float).sum():,.2f}", "", "", ""])
    rows.append(["", "", "", "以下空白", "", "", "", "", "", ""])
    rows.append(["制表人：会计", "", "", "审核：", "", "", "村民主理财小组：", "", "", ""])
    _html(path, f"{unit} {year}年 记账凭证列表", header, rows)


WRITERS: dict[str, tuple[Callable, str]] = {
    "kingdee_list": (_kingdee_list, "凭证列表_{year}年.xlsx"),
    "kingdee_entries": (_kingdee_entries, "凭证引出 (2).xlsx"),
    "kingdee_k3": (_kingdee_k3, "K3凭证引出_{year}.XLSX"),
    "yonyou_u8": (_yonyou_u8, "U8外部凭证{year}.txt"),
    "yonyou_journal": (_yonyou_journal, "序时账 (2).xlsx"),
    "yonyou_detail": (_yonyou_detail, "明细账_{year}_20250903150759.csv"),
    "sanzi_html": (_sanzi_html, "记账凭证列表{year}.xls"),
}


# ---- registers ---------------------------------------------------------------------------------------------

def _claims(claims: pd.DataFrame, residents: pd.DataFrame, names: dict, towns: dict, out: Path, loc: Locator) -> None:
    """一卡通 rolls per township and program: group header over the columns, three people a row, a 合计 row."""
    head_of = {}
    for _hh, g in residents.groupby("household_id"):
        first = g.iloc[0]
        for pid in g["person_id"]:
            head_of[pid] = (first["name"], first["person_id"])
    groups = ["", "户主信息", "", "收款人信息", "", "", "", "补贴对象信息", "", "", "", "发放信息", "", "", ""]
    header = ["排序序号", "户主姓名", "户主身份证号", "收款人姓名", "收款人身份证号", "银行账号", "开户银行", "村(居)委会",
              "享受人", "享受人身份证号", "补贴标准", "补贴金额", "补贴面积", "发放期间", "发放日期"]
    claims = claims.assign(town=claims["village_code"].str[:9])
    for (town, program), g in claims.groupby(["town", "program"], sort=True):
        rel = f"{towns[town]}/{towns[town]}{program}一卡通发放表.xlsx"
        rows = [[f"{towns[town]}{program}发放花名册"], groups, header]
        for k, r in enumerate(g.itertuples(), start=1):
            hname, hid = head_of.get(r.claimant_id, (r.claimant_name, r.claimant_id))
            rows.append([k, hname, hid, r.claimant_name, r.claimant_id, r.bank_account, "农商银行",
                         names[r.village_code], r.claimant_name, r.claimant_id, "", float(r.amount),
                         "" if r.quantity != r.quantity else float(r.quantity), _s(r.period), _d(r.pay_date)])
            loc.put("claims", r.claim_id, rel, "Sheet1", len(rows))
        rows.append(["合计", "", "", "", "", "", "", "", "", "", "", round(float(g["amount"].sum()), 2), "", "", ""])
        _xlsx(out / rel, [("Sheet1", rows)])


def _contracts(contracts: pd.DataFrame, folder: dict, out: Path, loc: Locator) -> None:
    for code, g in contracts.groupby("village_code"):
        rel = f"{folder[code]}/合同台账.xlsx"
        rows = [[f"{folder[code].split('/')[-1]}合同台账"], ["", "", "", "", "", "", "", "", "", "单位：元"],
                ["合同编号", "合同名称", "合同类别", "乙方", "乙方证件号", "收款账号", "合同金额", "签订日期", "起止日期",
                 "发包方式", "民主决策", "面积", "计量单位", "合同期限", "年租金"]]
        for section, part in (("一、工程、货物和服务", g[~g["category"].isin(["资产租赁", "资源发包"])]),
                              ("二、资产租赁和资源发包", g[g["category"].isin(["资产租赁", "资源发包"])])):
            if part.empty:
                continue
            rows.append([section])
            for r in part.itertuples():
                sign = _d(r.sign_date)
                term = ""
                start, end = _d(getattr(r, "start_date", None)), _d(getattr(r, "end_date", None))
                if start and end:
                    term = f"{start:%Y.%m.%d}-{end:%Y.%m.%d}"
                elif r.term_years == r.term_years and r.term_years:
                    end = dt.date(sign.year + int(r.term_years), sign.month, min(sign.day, 28)) - dt.timedelta(days=1)
                    term = f"{sign:%Y.%m.%d}-{end:%Y.%m.%d}"
                rent = getattr(r, "annual_rent", None)
                rows.append([r.contract_no, r.title, r.category, r.vendor, _s(r.vendor_id), _s(r.vendor_account),
                             f"{float(r.amount):,.2f}", sign, term, _s(r.method), _s(r.decision_ref),
                             "" if r.quantity != r.quantity else float(r.quantity), _s(r.unit),
                             "" if r.term_years != r.term_years else float(r.term_years),
                             "" if rent is None or rent != rent else float(rent)])
                loc.put("contracts", r.contract_no, rel, "Sheet1", len(rows))
        rows.append(["制表人：", "", "", "", "", "", "", "审核人："])
        _xlsx(out / rel, [("Sheet1", rows)])


def _residents(residents: pd.DataFrame, folder: dict, out: Path, loc: Locator) -> None:
    status = {"在册": "正常"}
    for code, g in residents.groupby("village_code"):
        rel = f"{folder[code]}/户籍花名册.xlsx"
        rows = [[f"{folder[code].split('/')[-1]}户籍人口花名册"],
                ["户号", "姓名", "与户主关系", "身份证号", "状态", "变动日期", "承包面积（亩）"]]
        for hh, h in g.groupby("household_id", sort=False):
            for k, r in enumerate(h.itertuples()):
                rows.append([hh if k == 0 else "", r.name, "户主" if k == 0 else "家庭成员", r.person_id,
                             status.get(r.status, r.status), _d(r.status_date) or "",
                             "" if r.contracted_area != r.contracted_area else float(r.contracted_area)])
                loc.put("residents", r.person_id, rel, "Sheet1", len(rows))
        _xlsx(out / rel, [("Sheet1", rows)])


def _officials(officials: pd.DataFrame, names: dict, towns: dict, out: Path, loc: Locator) -> None:
    """One row per relative (the cadre's columns repeated on each, a cadre with none on a row of their own)."""
    cadres = officials[officials["related_to"].isna() | (officials["related_to"].astype(str) == "")]
    rels = officials[~officials.index.isin(cadres.index)]
    by_town: dict[str, list] = {}
    for c in cadres.itertuples():
        mine = rels[rels["related_to"] == c.person_id]
        base = [names[c.village_code], c.name, c.person_id, _s(c.role), _d(c.term_start) or "", _d(c.term_end) or ""]
        lines = [(base + [r.name, r.relation, r.person_id, _s(r.employer)], r.person_id, c.person_id)
                 for r in mine.itertuples()] or [(base + ["", "", "", ""], None, c.person_id)]
        by_town.setdefault(c.village_code[:9], []).extend(lines)
    header = ["村名", "干部姓名", "干部身份证号", "职务", "任期开始", "任期结束", "亲属姓名", "关系", "亲属身份证号", "工作单位"]
    for town, lines in by_town.items():
        rel = f"{towns[town]}/{towns[town]}村干部近亲属登记表.xlsx"
        rows = [[f"{towns[town]}村干部及其近亲属登记表"], header]
        for line, rid, cadre in lines:
            rows.append(line)
            loc.put("officials", cadre, rel, "Sheet1", len(rows))
            if rid:
                loc.put("officials", rid, rel, "Sheet1", len(rows))
        _xlsx(out / rel, [("Sheet1", rows)])


# ---- the county --------------------------------------------------------------------------------------------

def _bank(bank: pd.DataFrame, folder: dict, out: Path, loc: Locator) -> None:
    """对公账户 交易明细, one file per account, in the three shapes banks write: 借方/贷方发生额 columns (xlsx),
    one 交易金额 with a 收/支 flag and the time in the date cell (HTML saved as .xls), 收入/支出金额 (GBK CSV)."""
    for k, (acct, g) in enumerate(bank.groupby("account_no", sort=True)):
        code = g["village_code"].iat[0]
        name = g["account_name"].iat[0]
        first, last = _d(g["txn_date"].min()), _d(g["txn_date"].max())
        title = [["演示县农村商业银行 对公账户交易明细"], [f"账号：{acct}"], [f"户名：{name}"],
                 [f"查询期间：{first} 至 {last}"]]
        shape = k % 3
        if shape == 0:
            rel = f"{folder[code]}/银行流水_{acct[-4:]}.xlsx"
            header = ["交易日期", "交易时间", "摘要", "借方发生额", "贷方发生额", "余额", "对方户名", "对方账号", "对方行名",
                      "流水号", "用途"]
            rows = [*title, header]
            for r in g.itertuples():
                rows.append([_d(r.txn_date), "10:00:00", _s(r.summary), _money(r.amount_out) or "0.00",
                             _money(r.amount_in) or "0.00", _money(r.balance), _s(r.counterparty_name),
                             _s(r.counterparty_account), _s(r.counterparty_bank), _s(r.serial_no), _s(r.purpose)])
                loc.put("bank", r.txn_id, rel, "Sheet1", len(rows))
            rows.append(["合计", "", "", _money(g["amount_out"].sum()), _money(g["amount_in"].sum()), "", "", "", "", "", ""])
            _xlsx(out / rel, [("Sheet1", rows)])
        elif shape == 1:
            rel = f"{folder[code]}/账户明细查询{acct[-4:]}.xls"
            header = ["交易日期", "交易金额", "收支标志", "余额", "对方户名", "对方账号", "交易流水号", "摘要", "附言"]
            body = []
            for r in g.itertuples():
                out_amt = r.amount_out == r.amount_out and r.amount_out
                body.append([f"{_d(r.txn_date)} 09:30:15", _money(out_amt or r.amount_in), "支" if out_amt else "收",
                             _money(r.balance), _s(r.counterparty_name), _s(r.counterparty_account), _s(r.serial_no),
                             _s(r.summary), _s(r.purpose)])
                loc.put("bank", r.txn_id, rel, None, len(body) + 2)  # the title row and the header above
            _html(out / rel, "\n".join(t[0] for t in title), header, body)
        else:
            rel = f"{folder[code]}/交易明细_{acct[-4:]}.csv"
            header = ["日期", "摘要", "收入金额", "支出金额", "余额", "对方户名", "对方账号", "流水号", "备注"]
            rows = [*title, header]
            for r in g.itertuples():
                rows.append([str(_d(r.txn_date)).replace("-", ""), _s(r.summary), _money(r.amount_in),
                             _money(r.amount_out), _money(r.balance), _s(r.counterparty_name),
                             _s(r.counterparty_account), _s(r.serial_no), _s(r.purpose)])
                loc.put("bank", r.txn_id, rel, None, len(rows))
            _text(out / rel, rows, "gbk")


def _registers(tables: dict, out: Path) -> None:
    """Registers of other departments and the villages' decision records, as a county office passes them on: one
    workbook per register named after it (车辆登记.xlsx), Chinese headers. Their truth stays keyed by record id (plate,
    deed, ID), which the reader keeps as written."""
    from ..contract import REGISTERS, TABLES

    for name in (*REGISTERS, "decisions", "contract_terms"):
        df = tables.get(name)
        if df is None:
            continue
        t = TABLES[name]
        cols = [c for c in t.columns if c.name in df and c.name != "extra" and df[c.name].notna().any()]
        rows = [[c.aliases[0] if c.aliases else c.name for c in cols]]
        for r in df[[c.name for c in cols]].itertuples(index=False):
            rows.append([_d(v) if isinstance(v, dt.date | pd.Timestamp) else (None if v != v else v) for v in r])
        _xlsx(out / f"{t.title}.xlsx", [(t.title, rows)])


def write_layouts(result, out: Path, fmt: str, seed: int, config) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Write every table in real layouts under ``out``; return the truth and look-alikes keyed by file and row, and
    where every canonical record went (table, record_id, source_file, source_sheet, source_row)."""
    if fmt not in FAMILIES:
        raise ValueError(f"未知格式 {fmt}（可用: canonical, {', '.join(FAMILIES)}）")
    rng = np.random.default_rng(seed)
    d = result.directory
    names = dict(zip(d["代码"], d["名称"], strict=True))
    towns = dict(zip(d["代码"].str[:9], d["乡镇"], strict=True))
    folder = {code: f"{towns[code[:9]]}/{names[code]}股份经济合作社" for code in names}
    loc = Locator()
    ledger = result.tables["ledger"]
    year = int(pd.to_datetime(ledger["entry_date"]).dt.year.mode().iat[0])
    formats = FAMILIES[fmt]
    for k, (code, v) in enumerate(sorted(ledger.groupby("village_code"), key=lambda x: x[0])):
        kind = formats[k % len(formats)] if fmt == "mixed" else formats[int(rng.integers(0, len(formats)))]
        fn, pattern = WRITERS[kind]
        rel = f"{folder[code]}/{pattern.format(year=year)}"
        unit = f"{towns[code[:9]]}{names[code]}股份经济合作社"
        fn(_vouchers(v), unit, year, out / rel, rel, loc)
    _claims(result.tables["claims"], result.tables["residents"], names, towns, out, loc)
    _contracts(result.tables["contracts"], folder, out, loc)
    _residents(result.tables["residents"], folder, out, loc)
    _officials(result.tables["officials"], names, towns, out, loc)
    if "bank" in result.tables:
        _bank(result.tables["bank"], folder, out, loc)
    _registers(result.tables, out)
    county = out / "_county"
    county.mkdir(parents=True, exist_ok=True)
    d.to_csv(county / "村级区划代码.csv", index=False, encoding="utf-8-sig")
    (county / "county.yaml").write_text(yaml.safe_dump(
        {"region": {"name": config.region.name, "county_code": config.region.county_code,
                    "village_directory": "村级区划代码.csv"}}, allow_unicode=True), encoding="utf-8")

    def keyed(df: pd.DataFrame, table_col: str) -> pd.DataFrame:
        where = [loc.rows.get((t, str(r)), (None, None, None)) for t, r in zip(df[table_col], df["record_id"],
                                                                               strict=True)]
        return df.assign(source_file=[w[0] for w in where], source_sheet=[w[1] for w in where],
                         source_row=pd.array([w[2] for w in where], dtype="Int64"))
    rows = pd.DataFrame([(t, r, f, s, n) for (t, r), (f, s, n) in loc.rows.items()],
                        columns=["source_table", "record_id", "source_file", "source_sheet", "source_row"])
    return keyed(result.truth, "source_table"), keyed(result.lookalikes, "source_table"), rows
