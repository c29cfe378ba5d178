"""From a profile's fields to the contract's columns, one function per table.

Everything stays text here: validation types the values and quarantines what cannot be typed, quoting it. The only
values computed are the ones a layout hides (a voucher number split from 记-12, an account code split from
"22410053 其他应付款_某公司", a debit from 金额 + 方向) and where a counterparty was read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import chart
from ..contract import TABLES
from ..normalize import STR
from .apply import _blank, amounts_float, dates_of, excel_serial_to_iso, extra_json, fill_down
from .profiles import Profile


@dataclass
class Context:
    """What the file around a row says, per row (one derive call covers every sheet of a profile, so a county's
    hundreds of files cost one pass, not hundreds): columns part (the sheet), file (its file), village_code,
    village_name (the file's village, "" when unknown), year and month (from the title, sheet or file name, ""
    when none), title (the text above the header) and stem (the file name without its suffix)."""

    profile: Profile
    rows: pd.DataFrame

    def col(self, name: str) -> pd.Series:
        return self.rows[name]


def _col(f: pd.DataFrame, name: str) -> pd.Series:
    return f[name] if name in f else pd.Series([""] * len(f), index=f.index, dtype=object)


def _has(f: pd.DataFrame, name: str) -> bool:
    return name in f and not _blank(f[name]).all()


# ---- counterparties ---------------------------------------------------------------------------------------

# level-1 account names whose sub-accounts are parties (payables, receivables, 往来)
_PARTY_ACCOUNT = re.compile(r"应付|应收|往来|预付|预收|借款|暂付|暂收|劳务费|专项应付")
_COMPANY = (r"有限责任公司|股份有限公司|有限公司|公司|厂|商店|商行|经营部|门市部|五金店|建材店|店|合作社|工作室|服务部|"
            r"工程队|施工队|中心|研究院|设计院|事务所|超市|饭店|酒店|农家乐")
_PAY = r"(?:支付|付给|付|预付|报销|借给|借支|退还|付还|结算)"
_SUMMARY_COMPANY = re.compile(_PAY + r"\s*(?P<n>[\u4e00-\u9fa5A-Za-z0-9()（）]{2,40}?(?:" + _COMPANY + r"))")
# the hundred most common surnames (about 85% of people): a 摘要 word is taken for a person's name only after one
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
             "金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章"
             "鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾"
             "尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛"
             "仲虞敖巩明佘池查麻苑迟邝")
# what a payment to a person is for, right after the name: 付张三购买材料, 支付李四误工补贴, 付王五路灯维护费
_WHAT = (r"购买|采购|报销|发放|道路|河道|清淤|安装|排水|修建|建设|改造|修缮|加固|整治|铺装|桥梁|山塘|公厕|监控|临时|误工|劳务|工资|工钱|工程|材料|维修|修理|路灯|绿化|保洁|养护|清运|办公|水电|差旅|通讯|租金|运费|补贴|"
         r"补助|津贴|报酬|务工|借款|货款|垫付|代垫|押金|承包|个人|款|费")
# …then, often, the village group the work was for: 支付王燕3组桥梁加固工程款
# (a village group right after the name is delimiter enough: 支付杨龙4组停车场铺装工程款)
_SUMMARY_PERSON = re.compile(_PAY + r"\s*(?P<n>[" + _SURNAMES + r"][\u4e00-\u9fa5]{1,2}?)(?=(?:同志)?(?:[(（]个体[)）])?"
                             r"的?(?:(?:\d{1,3}|[一二三四五六七八九十]{1,3})组|" + _WHAT + r"))")
_NOT_NAME = re.compile(r"^(本月|上月|全年|村委|村里|村级|部分|剩余|尾款|工程|材料|货款|税费|电费|水费|网费|话费|利息|手续费|"
                       r"保险|社保|医保|公积金|工资|款项|费用|往来|本期|本年|上年|预算|合同|路灯|道路|河道|村道|绿化|保洁|垃圾|"
                       r"办公|水电|网络|通讯|维修|临时|误工|差旅|干部|上级|转移|财政|租金|补贴|管理|公益|安全|文化|卫生|环境|"
                       r"党建|宣传|会议|接待|培训|慰问|打印|复印|交通|车辆|燃油|邮寄|快递|银行|现金|发票|税金|房租|电话|报销|购买)")
# a sub-account that is a category (应付劳务费-临时用工, 应付工资-村干部报酬), not a party
_CATEGORY = re.compile(r"用工|报酬|工资|补贴|费|款|其他|往来|个人|单位|职工|干部|村民|农户|押金|保证金|暂借|备用金|社员|基本户|"
                       r"一般户|专户|税|利息|收入|支出|成本")
_ORG = re.compile(_COMPANY)


def _party_like(s: pd.Series) -> pd.Series:
    """Sub-account names that name a party: an organisation, or a person's name."""
    t = s.fillna("").astype("str")
    org = t.str.contains(_ORG)
    # under a payables account the level itself says it is a party: any 2-4 character name that is not a category
    person = t.str.fullmatch(r"[\u4e00-\u9fa5]{2,4}") & ~t.str.contains(_CATEGORY)
    return (org | person) & (t != "")


def summary_party(s: pd.Series) -> pd.Series:
    """A payee named only in 摘要 (支付新塘建材店材料款, 付张三误工费): a weak source."""
    txt = s.fillna("").astype("str")
    out = txt.str.extract(_SUMMARY_COMPANY)["n"]
    person = txt.str.extract(_SUMMARY_PERSON)["n"]
    out = out.where(out.notna(), person)
    return out.where(~out.fillna("").str.match(_NOT_NAME), None)


def aux_items_party(s: pd.Series) -> pd.Series:
    """K/3 核算项目 "供应商---0001---新塘建材店,部门---01---村委" → the party (客户/供应商/职员/个人) name."""
    def one(v: str) -> str | None:
        if not v:
            return None
        for part in re.split(r"[,，;；]", v):
            bits = [b.strip() for b in part.split("---")]
            if len(bits) >= 3 and re.search(r"客户|供应商|职员|个人|往来|客商|人员", bits[0]) and bits[-1]:
                return bits[-1]
        return None
    return s.fillna("").astype("str").map(one)


def aux_text_party(s: pd.Series) -> pd.Series:
    """NC/用友 辅助项 "客商:新塘建材店 / 项目:道路" → 新塘建材店."""
    m = s.fillna("").astype("str").str.extract(r"(?:客商|客户|供应商|个人|职员|往来单位)[:：]\s*(?P<n>[^/／;；,，【】\[\]]+)")
    return m["n"].str.strip()


def _first_of(parts: list[tuple[pd.Series, str]], n: int, index) -> tuple[pd.Series, pd.Series]:
    name = pd.Series([None] * n, index=index, dtype=object)
    source = pd.Series([None] * n, index=index, dtype=object)
    for s, label in parts:
        s = s.where(~_blank(s), None)
        take = name.isna() & s.notna()
        name = name.where(~take, s)
        source = source.where(~take, label)
    return name, source


# ---- ledger -----------------------------------------------------------------------------------------------

_SUMMARY_CONTRACT = re.compile(r"合同(?:编号|号)?\s*[:：]?\s*([A-Za-z]{0,6}[-_]?\d[0-9A-Za-z\-_/]{3,30})")
_SUMMARY_INVOICE = re.compile(r"(?:发票|票据)(?:号码|号)?\s*[:：]?\s*(\d{8,20})")
def numbering_by_file(file: pd.Series, month: pd.Series, num: pd.Series) -> pd.Series:
    """Per row, "period" or "year": a book numbered per month starts each month at 1; one numbered per year goes on.

    Told per file (a 金蝶 workbook has a sheet per period) from the first voucher number of each of its months."""
    v = pd.DataFrame({"file": file.to_numpy(), "month": month.to_numpy(), "num": num.to_numpy()}).dropna()
    if v.empty:
        return pd.Series("period", index=file.index)
    first = v.groupby(["file", "month"])["num"].min().reset_index()
    share = (first["num"] <= 1).groupby(first["file"]).mean()
    months = first.groupby("file").size()
    kind = pd.Series(np.where(share >= 0.5, "period", "year"), index=share.index)
    kind[(months == 1) & (share == 1)] = "period"
    return file.map(kind).fillna("period")


_VOUCHER = re.compile(r"^\s*(?P<w>[^\d\s]*?)\s*[-－—_#第]?\s*(?P<n>\d+)\s*号?\s*$")


def derive_ledger(f: pd.DataFrame, other: pd.DataFrame, ctx: Context, directory=None) -> pd.DataFrame:
    p = ctx.profile
    fill_down(f, p.fill_down, ctx.col("part"))
    fkey = ctx.col("file").astype("str") + "\x1f"  # vouchers, numbering and fill-down never cross a file
    n = len(f)
    out = pd.DataFrame(index=f.index)

    # 科目: one cell "code name_l2_l3", or code and name apart
    sub_party = pd.Series([None] * n, index=f.index, dtype=object)
    if _has(f, "subject"):
        parts = f["subject"].astype("str").str.extract(r"^\s*(?P<code>[0-9][0-9.\-]*)\s*(?P<name>.*)$")
        code = parts["code"].where(parts["code"].notna(), "")
        name = parts["name"].where(parts["code"].notna(), f["subject"])
    else:
        code, name = _col(f, "account_code").astype("str"), _col(f, "account_name").astype("str")
    code = code.str.replace(r"[.\-\s]", "", regex=True).where(~code.str.strip().isin(["未找到", "无", "NONE", "*"]), "")
    sep = re.escape(p.name_separator) if p.name_separator else "-"
    joined = (name.fillna("").astype("str").str.replace(rf"\s*(?:{sep}|-|_)\s*", "-", regex=True)
              .str.replace(r"-{2,}", "-", regex=True).str.strip("-"))
    first_level = joined.str.extract(r"^([^-]*)")[0].fillna("")
    last_level = joined.str.extract(r"([^-]*)$")[0].fillna("")
    many = joined.str.contains("-", regex=False).fillna(False)
    sub_party = last_level.where(many & first_level.str.contains(_PARTY_ACCOUNT) & _party_like(last_level), None)
    out["account_code"] = code
    # enterprise books (小企业会计准则: four-digit level 1) are told by their codes, per file
    by_file = {k: chart.detect(c) or "" for k, c in pd.Series(code.to_numpy()).groupby(ctx.col("file").to_numpy())}
    out["chart"] = ctx.col("file").map(by_file).to_numpy()
    out["account_name"] = joined

    # dates: a date cell, or 年/月/日 columns with the year from the title when there is no 年
    if _has(f, "entry_date"):
        date = excel_serial_to_iso(f["entry_date"].astype("str"))
    else:
        year = _col(f, "year").astype("str").str.extract(r"(\d{4})")[0]
        year = year.fillna(ctx.col("year").astype("str"))
        month = _col(f, "month").astype("str").str.extract(r"(\d{1,2})")[0]
        month = month.fillna(ctx.col("month").astype("str").where(ctx.col("month").astype("str") != ""))
        day = _col(f, "day").astype("str").str.extract(r"(\d{1,2})")[0]
        ok = (year != "") & month.notna() & day.notna()
        date = pd.Series("", index=f.index, dtype=object)
        date[ok] = year[ok] + "-" + month[ok].str.zfill(2) + "-" + day[ok].str.zfill(2)
    out["entry_date"] = date

    # vouchers: 记-12, or 凭证字 + 凭证号; numbered per period (month) or per year
    if _has(f, "voucher_no") and not (_has(f, "voucher") or _has(f, "voucher_num")):
        out["voucher_no"] = f["voucher_no"]
    else:
        if _has(f, "voucher"):
            vp = f["voucher"].astype("str").str.extract(_VOUCHER)
            word, num = vp["w"].fillna(""), vp["n"]
            raw = f["voucher"].astype("str")
        else:
            word = _col(f, "voucher_word").astype("str").str.strip()
            num = _col(f, "voucher_num").astype("str").str.extract(r"(\d+)")[0]
            raw = (word + _col(f, "voucher_num").astype("str")).str.strip()
        d = dates_of(date)
        yr = d.dt.year
        period = _col(f, "period").astype("str").str.extract(r"(\d{1,2})")[0]
        mo = pd.to_numeric(period, errors="coerce").where(period.notna(), d.dt.month)
        y4 = yr.astype("Int64").astype("str")
        m2 = mo.astype("Int64").astype("str").str.zfill(2)
        w = word.where(word == "", word + "-")
        n4 = num.fillna("0").astype("str").str.zfill(4)
        blank = raw.str.strip() == ""
        by_year = pd.Series(raw.to_numpy(), index=f.index, dtype=object)
        ok = num.notna() & yr.notna()
        by_year[ok] = (y4 + "-" + w + n4)[ok]
        by_period = pd.Series(raw.to_numpy(), index=f.index, dtype=object)
        ok &= mo.notna()
        by_period[ok] = (y4 + "-" + m2 + "-" + w + n4)[ok]
        if p.voucher_numbering == "auto":  # a property of the book, so of the whole file
            per_year = numbering_by_file(ctx.col("file"), mo, pd.to_numeric(num, errors="coerce")) == "year"
        else:
            per_year = pd.Series(p.voucher_numbering == "year", index=f.index)
        out["voucher_no"] = by_year.where(per_year, by_period).where(~blank, "")

    # line numbers: 分录号 from the file (K/3 starts at 0), else the position within the voucher
    if _has(f, "line_no"):
        ln = pd.to_numeric(f["line_no"].astype("str").str.extract(r"(\d+)")[0], errors="coerce")
        out["line_no"] = (ln - p.line_base + 1).astype("Int64").astype("str").where(ln.notna(), "")
    else:
        out["line_no"] = (out.groupby("voucher_no", sort=False).cumcount() + 1).astype("str")

    # amounts: 借方/贷方, or 金额 + 方向, or one signed amount; a red entry stays a negative on its side
    if _has(f, "debit") or _has(f, "credit"):
        debit, credit = _col(f, "debit").astype("str"), _col(f, "credit").astype("str")
        if p.placeholders or p.line_base == 0:  # K/3 writes the empty side as 0
            dv, cv = amounts_float(debit), amounts_float(credit)
            debit = debit.where(~((dv == 0) & (cv != 0)), "")
            credit = credit.where(~((cv == 0) & (dv != 0)), "")
    elif _has(f, "amount"):
        amount = f["amount"].astype("str")
        if _has(f, "direction"):
            dirn = f["direction"].astype("str").str.strip().str.upper()
            is_d = dirn.isin(["借", "借方", "J", "D", "1", "DR"])
            is_c = dirn.isin(["贷", "贷方", "C", "-1", "CR"])
            debit, credit = amount.where(is_d, ""), amount.where(is_c, "")
            unknown = ~(is_d | is_c) & (amount.str.strip() != "")
            debit = debit.where(~unknown, amount)  # left for validation: both sides set → quarantined
            credit = credit.where(~unknown, amount)
        else:
            v = amounts_float(amount)
            neg = v < 0
            debit = amount.where(~neg & ~np.isnan(v), "")
            credit = pd.Series(np.where(neg, np.abs(v), np.nan), index=f.index).map(
                lambda x: "" if x != x else f"{x:.2f}")
            bad = np.isnan(v) & (amount.str.strip() != "")
            debit = debit.where(~bad, amount)  # unparseable: validation quotes it
    else:
        debit = credit = pd.Series([""] * n, index=f.index, dtype=object)
    out["debit"], out["credit"] = debit, credit

    for c in ("summary", "counterparty_account", "counterparty_id", "contract_no", "invoice_no", "handler",
              "approver", "settlement"):
        out[c] = _col(f, c)
    out["summary"] = out["summary"].astype("str").str.replace(r"\s*\n\s*", " ", regex=True)
    # village accountants write the contract and the invoice into 摘要 when the export has no column for them
    for col, rx in (("contract_no", _SUMMARY_CONTRACT), ("invoice_no", _SUMMARY_INVOICE)):
        found = out["summary"].str.extract(rx)[0]
        empty = _blank(out[col])
        out[col] = out[col].where(~empty | found.isna(), found)

    # 结算方式 where the export has none: the voucher's own cash or bank line says how it was paid
    if not _has(f, "settlement"):
        name1 = out["account_name"].astype("str")
        cr = amounts_float(out["credit"].astype("str"))
        cash_out = name1.str.match(r"^(库存)?现金") & (cr > 0)
        bank_out = name1.str.match(r"^银行存款") & (cr > 0)
        key = fkey + out["voucher_no"].astype("str")
        by_cash = key.isin(set(key[cash_out]))
        by_bank = key.isin(set(key[bank_out]))
        out["settlement"] = np.where(by_cash & ~by_bank, "现金", np.where(by_bank & ~by_cash, "转账", ""))

    # counterparties, strongest source first
    aux = [(_col(f, c), "aux") for c in ("aux_supplier", "aux_customer", "aux_employee")]
    party, source = _first_of([(_col(f, "counterparty"), "column"), *aux,
                               (aux_items_party(_col(f, "aux_items")), "item"),
                               (aux_text_party(_col(f, "aux_text")), "aux"),
                               (sub_party, "subaccount")], n, f.index)
    # a line without a party takes its voucher's one party (the expense line of 借 管理费用 / 贷 应付款-XX公司)
    key = fkey + out["voucher_no"].astype("str")
    known = party.notna()
    per_voucher = pd.DataFrame({"k": key[known], "p": party[known]}).drop_duplicates()
    parties = per_voucher["k"].value_counts()
    single = per_voucher[per_voucher["k"].isin(parties.index[parties == 1])].set_index("k")["p"]
    take = party.isna() & key.isin(single.index)
    party = party.where(~take, key.map(single))
    source = source.where(~take, "voucher")
    weak = summary_party(out["summary"])
    take = party.isna() & weak.notna()
    party, source = party.where(~take, weak), source.where(~take, "summary")
    out["counterparty"] = party
    out["counterparty_source"] = source

    out["village_code"] = _col(f, "village_code") if _has(f, "village_code") else ctx.col("village_code")
    out["village_name"] = _col(f, "village_name") if _has(f, "village_name") else ctx.col("village_name")
    vc = out["village_code"].astype("str")
    out["entry_id"] = (vc + "-" + out["voucher_no"].astype("str") + "-" + out["line_no"].astype("str")).where(
        (vc != "") & (out["voucher_no"].astype("str") != ""), "")
    more = {k: _col(f, c) for c, k in (("preparer", "制单人"), ("reviewer", "审核人"), ("aux_project", "项目"),
                                        ("aux_department", "部门"), ("aux_custom", "自定义辅助核算"),
                                        ("aux_items", "核算项目"), ("aux_text", "辅助项"))
            if _has(f, c)}
    out["extra"] = extra_json(other, more, f.index)
    return _finish(out, "ledger")


def _finish(out: pd.DataFrame, table: str) -> pd.DataFrame:
    """The contract's columns as Arrow strings ("" for none): a county's rows wait in memory for validation, and
    Python str objects would cost several times the text."""
    cols = [c for c in TABLES[table].column_names if c in out]
    return pd.DataFrame({c: out[c].astype("object").where(out[c].notna(), "").astype(STR) for c in cols},
                        index=out.index)


# ---- 一卡通 rolls -----------------------------------------------------------------------------------------

_ROLL_WORDS = re.compile(r"(\d{4}\s*年度?|第[一二三四1-4]季度|[一二三四1-4]季度|\d{1,2}\s*月份?|上半年|下半年|第\d+批|"
                         r"发放花名册|发放清册|发放明细表?|发放表|发放名单|花名册|清册|明细表|名册|汇总表|统计表|一览表|"
                         r"惠民惠农|一卡通|补贴资金|资金|资金发放|[（(].*?[)）]|村|乡|镇|街道|[\s:：_\-—])")


# national programs, longest first, so a roll's title names its program whatever else it says
PROGRAMS = sorted(["耕地地力保护补贴", "最低生活保障金", "农村最低生活保障", "最低生活保障", "低保金", "特困人员救助供养金",
                   "特困供养金", "高龄津贴", "高龄补贴", "城乡居民基础养老金", "城乡居民养老保险", "基础养老金", "危房改造补助",
                   "农村危房改造", "退耕还林补助", "退耕还林", "生态公益林补偿", "公益林补偿", "残疾人两项补贴",
                   "困难残疾人生活补贴", "重度残疾人护理补贴", "实际种粮农民一次性补贴", "农机购置补贴", "临时救助",
                   "计划生育奖励扶助", "独生子女父母奖励", "优抚对象补助", "孤儿基本生活费"], key=len, reverse=True)


def program_of(title: str, stem: str, profile: Profile) -> str | None:
    if profile.program:
        return profile.program
    for t in (title, stem):
        hit = next((p for p in PROGRAMS if p in re.sub(r"\s", "", t or "")), None)
        if hit:
            return hit
    for t in (title, stem):
        t = re.sub(r"单位[:：].*$|制表.*$", "", t or "")
        core = _ROLL_WORDS.sub("", t)
        core = re.sub(r"^.*?(?=[\u4e00-\u9fa5]{2,}(?:补贴|补助|津贴|保障金|救助|养老金|抚恤|奖励|保险))", "", core)
        m = re.search(r"[\u4e00-\u9fa5]{2,16}(?:补贴|补助|津贴|保障金|保障|救助金|救助|养老金|抚恤金|奖励|补偿)", core)
        if m:
            return m.group(0)
    return None


def period_of(title: str, stem: str) -> str | None:
    for t in (title, stem):
        t = t or ""
        m = re.search(r"(\d{4})\s*年\s*(?:第)?([一二三四1-4])\s*季度", t)
        if m:
            q = "一二三四".find(m.group(2)) + 1 if not m.group(2).isdigit() else int(m.group(2))
            return f"{m.group(1)}Q{q}"
        m = re.search(r"(\d{4})\s*年\s*(\d{1,2})\s*月", t)
        if m:
            return f"{m.group(1)}-{int(m.group(2)):02d}"
        m = re.search(r"(\d{4})\s*年", t)
        if m:
            return m.group(1)
    return None


def _per_file(ctx: Context, fn) -> pd.Series:
    """fn(title, stem) for every row, computed once per distinct file title."""
    key = ctx.col("title").astype("str") + "\x1f" + ctx.col("stem").astype("str")
    done = {k: fn(*k.split("\x1f", 1)) for k in key.unique()}
    return key.map(done)


def derive_claims(f: pd.DataFrame, other: pd.DataFrame, ctx: Context, directory=None) -> pd.DataFrame:
    fill_down(f, ctx.profile.fill_down, ctx.col("part"))
    out = pd.DataFrame(index=f.index)
    # the claimant is the 享受人; where a roll has none, the card holder, then the household head
    name, _ = _first_of([(_col(f, "claimant_name"), "a"), (_col(f, "payee_name"), "b"),
                         (_col(f, "household_head_name"), "c")], len(f), f.index)
    pid, _ = _first_of([(_col(f, "claimant_id"), "a"), (_col(f, "payee_id"), "b"),
                        (_col(f, "household_head_id"), "c")], len(f), f.index)
    out["claimant_name"], out["claimant_id"] = name, pid
    for c in ("payee_name", "payee_id", "household_head_name", "household_head_id", "bank_account", "amount",
              "quantity", "claim_id"):
        out[c] = _col(f, c)
    program = _per_file(ctx, lambda t, st: program_of(t, st, ctx.profile) or "")
    out["program"] = f["program"].where(~_blank(f["program"]), program) if "program" in f else program
    period = _per_file(ctx, lambda t, st: period_of(t, st) or "")
    out["period"] = f["period"].where(~_blank(f["period"]), period) if "period" in f else period
    date = excel_serial_to_iso(_col(f, "pay_date").astype("str"))
    if not _has(f, "pay_date"):
        def from_title(t: str, _st: str) -> str:
            m = re.search(r"(?:发放|填报|制表)(?:日期|时间)[:：]?\s*(\d{4}\s*[年./-]\s*\d{1,2}\s*[月./-]\s*\d{1,2}\s*日?)", t)
            return m.group(1) if m else ""
        date = _per_file(ctx, from_title)
    out["pay_date"] = date
    _village(out, f, ctx, directory)
    more = {k: _col(f, c) for c, k in (("bank_name", "开户银行"), ("group", "村民小组"), ("standard", "补贴标准"))
            if _has(f, c)}
    out["extra"] = extra_json(other, more, f.index)
    return _finish(out, "claims")


def _village(out: pd.DataFrame, f: pd.DataFrame, ctx: Context, directory) -> None:
    """The row's own village code, else its 村(居)委会 name looked up in the directory, else the file's village."""
    code = _col(f, "village_code").astype("str").str.strip()
    if _has(f, "village_name") and directory is not None:
        looked = directory.lookup_names(f["village_name"].where(~_blank(f["village_name"])))
        code = code.where(code != "", looked.fillna(""))
    code = code.where(code != "", ctx.col("village_code").astype("str"))
    out["village_code"] = code


# ---- registers --------------------------------------------------------------------------------------------

def split_term(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """起止日期 "2020.01.01-2030.12.31" / "2020年1月1日至2030年12月31日" → (start, end)."""
    parts = s.fillna("").astype("str").str.extract(
        r"^\s*(?P<a>\d{4}\s*[年./-]\s*\d{1,2}\s*[月./-]\s*\d{1,2}\s*日?)\s*(?:至|到|-|—|－|~|～|–)+\s*"
        r"(?P<b>\d{4}\s*[年./-]\s*\d{1,2}\s*[月./-]\s*\d{1,2}\s*日?)\s*$")
    return parts["a"].fillna(""), parts["b"].fillna("")


def derive_contracts(f: pd.DataFrame, other: pd.DataFrame, ctx: Context, directory=None) -> pd.DataFrame:
    fill_down(f, ctx.profile.fill_down, ctx.col("part"))
    out = pd.DataFrame(index=f.index)
    for c in ("contract_no", "title", "category", "vendor", "vendor_id", "vendor_account", "amount", "method",
              "decision_ref", "quantity", "unit", "term_years", "annual_rent"):
        out[c] = _col(f, c)
    start, end = _col(f, "start_date").astype("str"), _col(f, "end_date").astype("str")
    if _has(f, "term"):
        a, b = split_term(f["term"])
        start, end = start.where(start.str.strip() != "", a), end.where(end.str.strip() != "", b)
    out["start_date"], out["end_date"] = excel_serial_to_iso(start), excel_serial_to_iso(end)
    sign = excel_serial_to_iso(_col(f, "sign_date").astype("str"))
    more = {}
    if not _has(f, "sign_date"):  # registers often keep only the term: its start stands for the signing
        sign = out["start_date"]
        more["签订日期来源"] = pd.Series(np.where(sign != "", "合同起始日期", ""), index=f.index)
    out["sign_date"] = sign
    _village(out, f, ctx, directory)
    if _has(f, "term"):
        more["起止日期"] = f["term"]
    out["extra"] = extra_json(other, more, f.index)
    return _finish(out, "contracts")


_STATUS = {"正常": "在册", "在册": "在册", "在籍": "在册", "现住": "在册", "在户": "在册", "死亡": "死亡", "已故": "死亡",
           "去世": "死亡", "迁出": "迁出", "户口迁出": "迁出", "外迁": "迁出", "迁入": "迁入", "新迁入": "迁入", "出生": "在册"}


def derive_residents(f: pd.DataFrame, other: pd.DataFrame, ctx: Context, directory=None) -> pd.DataFrame:
    fill_down(f, [*ctx.profile.fill_down, "household_id"], ctx.col("part"))  # 户号: often one merged cell
    out = pd.DataFrame(index=f.index)
    for c in ("person_id", "name", "household_id", "status_date", "contracted_area", "relation_to_head"):
        out[c] = _col(f, c)
    raw = _col(f, "status").astype("str").str.strip()
    out["status"] = raw.map(lambda v: _STATUS.get(v, v))
    out["status_date"] = excel_serial_to_iso(out["status_date"].astype("str"))
    _village(out, f, ctx, directory)
    more = {"原状态": raw.where(raw.map(lambda v: _STATUS.get(v, v)) != raw, "")}
    out["extra"] = extra_json(other, more, f.index)
    return _finish(out, "residents")


def derive_officials(f: pd.DataFrame, other: pd.DataFrame, ctx: Context, directory=None) -> pd.DataFrame:
    """One row per relative → the cadre once (本人) and each relative (related_to = the cadre's ID), both numbered
    with the source row. A register already in the contract's shape (person_id, related_to) passes through."""
    fill_down(f, [*ctx.profile.fill_down, "cadre_name", "cadre_id", "role"], ctx.col("part"))  # merged cells
    ex = extra_json(other, None, f.index)
    cadre = pd.DataFrame({"person_id": _col(f, "cadre_id"), "name": _col(f, "cadre_name"), "role": _col(f, "role"),
                          "related_to": "", "relation": "本人", "term_start": _col(f, "term_start"),
                          "term_end": _col(f, "term_end"), "employer": "", "extra": ex}, index=f.index)
    rel = pd.DataFrame({"person_id": _col(f, "relative_id"), "name": _col(f, "relative_name"), "role": "",
                        "related_to": _col(f, "cadre_id"), "relation": _col(f, "relation"), "term_start": "",
                        "term_end": "", "employer": _col(f, "employer"), "extra": ex}, index=f.index)
    has_rel = ~(_blank(rel["person_id"]) & _blank(rel["name"]))
    first = ~(ctx.col("file").astype("str") + "\x1f"
              + cadre["person_id"].where(~_blank(cadre["person_id"]), cadre["name"]).astype("str")).duplicated()
    parts = pd.concat([cadre[first], rel[has_rel]]).sort_index(kind="stable")
    out = parts.copy()
    _village(out, f.loc[parts.index], Context(ctx.profile, ctx.rows.loc[parts.index]), directory)
    return _finish(out, "officials")


# ---- bank statements --------------------------------------------------------------------------------------

_TITLE_ACCOUNT = re.compile(r"(?:本方账号|账号|帐号|账户|卡号)\s*[:：]\s*([0-9][0-9\s\-]{7,34}[0-9])")
_TITLE_HOLDER = re.compile(r"(?:户名|账户名称|单位名称|客户名称)\s*[:：]\s*([^\s:：]{2,60}?)(?=\s|$|[,，;；]|账号|币种|开户)")
_OUT_FLAGS = ["支", "支出", "借", "借方", "付", "付出", "转出", "D", "DR", "-", "出"]
_IN_FLAGS = ["收", "收入", "贷", "贷方", "存", "存入", "转入", "C", "CR", "+", "入"]


def title_account(title: str) -> str:
    m = _TITLE_ACCOUNT.search(title or "")
    return re.sub(r"[\s\-]", "", m.group(1)) if m else ""


def title_holder(title: str) -> str:
    m = _TITLE_HOLDER.search(re.sub(r"[ \t]+", " ", title or ""))
    return m.group(1) if m else ""


def derive_bank(f: pd.DataFrame, other: pd.DataFrame, ctx: Context, directory=None) -> pd.DataFrame:
    """Amounts in three shapes: 借方/贷方 (or 支出/收入) columns; one 交易金额 with a 收/支 flag; one signed amount
    (negative = out). The own account and its holder come from the columns, else from the title rows (账号：…,
    户名：…); a date cell holding the time too (2024-03-15 10:23:11) is split."""
    fill_down(f, ctx.profile.fill_down, ctx.col("part"))
    out = pd.DataFrame(index=f.index)
    # row by row: one derive call covers every file of the profile, and the files may come in different shapes
    a_out, a_in = _col(f, "amount_out").astype("str"), _col(f, "amount_in").astype("str")
    vo, vi = amounts_float(a_out), amounts_float(a_in)
    a_out = a_out.where(~((vo == 0) & (vi != 0)), "")  # the empty side written as 0.00
    a_in = a_in.where(~((vi == 0) & (vo != 0)), "")
    one = _blank(a_out) & _blank(a_in) & ~_blank(_col(f, "txn_amount"))
    if one.any():
        amount = _col(f, "txn_amount").astype("str")
        flag = _col(f, "direction").astype("str").str.strip().str.upper()
        flagged = one & ~_blank(_col(f, "direction"))
        is_out, is_in = flag.isin(_OUT_FLAGS), flag.isin(_IN_FLAGS)
        unknown = flagged & ~(is_out | is_in)
        a_out = a_out.where(~(flagged & (is_out | unknown)), amount)  # an unknown flag: both sides, quarantined
        a_in = a_in.where(~(flagged & (is_in | unknown)), amount)
        signed = one & ~flagged
        v = amounts_float(amount)
        neg = signed.to_numpy() & (v < 0)
        a_in = a_in.where(~(signed & ~pd.Series(neg, index=f.index)), amount)  # unparseable stays: validation quotes it
        a_out = a_out.where(~pd.Series(neg, index=f.index), pd.Series(np.abs(v), index=f.index).map(lambda x: f"{x:.2f}"))
    out["amount_out"], out["amount_in"] = a_out, a_in
    date = excel_serial_to_iso(_col(f, "txn_date").astype("str").str.strip())
    parts = date.str.extract(r"^(?P<d>\S+?)[\sT]+(?P<t>\d{1,2}:\d{2}(?::\d{2})?)$")
    has_time = parts["d"].notna()
    out["txn_date"] = date.where(~has_time, parts["d"])
    t = _col(f, "txn_time").astype("str")
    out["txn_time"] = t.where(t.str.strip() != "", parts["t"].fillna(""))
    for c in ("summary", "balance", "counterparty_name", "counterparty_account", "counterparty_bank", "serial_no",
              "purpose", "txn_id"):
        out[c] = _col(f, c)
    acct = _per_file(ctx, lambda ti, _st: title_account(ti))
    holder = _per_file(ctx, lambda ti, _st: title_holder(ti))
    own = _col(f, "account_no").astype("str")
    out["account_no"] = own.where(own.str.strip() != "", acct)
    name = _col(f, "account_name").astype("str")
    out["account_name"] = name.where(name.str.strip() != "", holder)
    _village(out, f, ctx, directory)
    out["extra"] = extra_json(other, None, f.index)
    return _finish(out, "bank")


DERIVE = {"ledger": derive_ledger, "claims": derive_claims,
          "contracts": derive_contracts, "residents": derive_residents, "officials": derive_officials,
          "bank": derive_bank}
