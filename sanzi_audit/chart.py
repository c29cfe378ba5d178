"""Charts of accounts by date and by kind of book, and the role of every account: the one place that knows codes.

- Village books before 2024-01-01 use the 2004 chart (村集体经济组织会计制度, 财会〔2004〕12号), from then on the 2024
  chart (农村集体经济组织会计制度, 财会〔2023〕14号). Codes changed meaning between them: 211 is 应付工资 in 2004 and
  应付款 in 2024, 212 应付福利费 / 应付工资, 502 经营支出 / 投资收益, 511 发包及上交收入 / 经营支出, 541 管理费用 / —.
  Sub-accounts add 3 digits a level (112001), or 4 in some 三资 systems (15101, 151010001).
- Company books (a village's 公司, or books kept in 金蝶/用友 with the enterprise template) use the 小企业会计准则 chart:
  four-digit level-1 codes (1001 库存现金, 2241 其他应付款, 5602 管理费用).

Detectors speak in roles (``payroll``, ``admin_expense``, ``works`` …), never in raw codes, so books that span both
village charts, or a county with both kinds of book, read the same. A row's chart is its ``chart`` column when the
reader set it (enterprise books are told by their codes), else the village chart in force on its date.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

SWITCH = dt.date(2024, 1, 1)
VILLAGE_2004, VILLAGE_2024, ENTERPRISE = "village-2004", "village-2024", "enterprise"

ROLES = {
    "cash": "库存现金", "bank": "银行存款", "investment": "投资", "receivable": "应收及预付款", "internal": "内部往来",
    "inventory": "库存物资（货物）", "bio_asset": "生物资产", "fixed_asset": "固定资产", "depreciation": "累计折旧/摊销",
    "construction": "在建工程（工程）", "asset_disposal": "固定资产清理", "intangible": "无形资产", "deferred": "待摊/待处理",
    "loan": "借款", "payable": "应付款（往来）", "payroll": "应付工资（干部报酬、职工薪酬）", "welfare": "应付福利费",
    "labour": "应付劳务费", "tax": "应交税费", "earmarked": "一事一议及专项资金", "equity": "所有者权益",
    "cost": "生产（劳务）成本", "income_operating": "经营收入", "income_lease": "发包及上交收入",
    "income_subsidy": "补助收入", "income_investment": "投资收益", "income_other": "其他收入",
    "operating_expense": "经营支出", "tax_expense": "税金及附加", "admin_expense": "管理费用",
    "public_welfare": "公益支出", "other_expense": "其他支出", "income_tax": "所得税费用",
}

# code → (name, role)
CHARTS: dict[str, dict[str, tuple[str, str]]] = {
    VILLAGE_2024: {
        "101": ("库存现金", "cash"), "102": ("银行存款", "bank"), "111": ("短期投资", "investment"),
        "112": ("应收款", "receivable"), "113": ("内部往来", "internal"), "121": ("库存物资", "inventory"),
        "131": ("消耗性生物资产", "bio_asset"), "132": ("生产性生物资产", "bio_asset"),
        "133": ("生产性生物资产累计折旧", "depreciation"), "134": ("公益性生物资产", "bio_asset"),
        "141": ("长期投资", "investment"), "151": ("固定资产", "fixed_asset"), "152": ("累计折旧", "depreciation"),
        "153": ("在建工程", "construction"), "154": ("固定资产清理", "asset_disposal"),
        "161": ("无形资产", "intangible"), "162": ("累计摊销", "depreciation"), "171": ("长期待摊费用", "deferred"),
        "181": ("待处理财产损溢", "deferred"), "201": ("短期借款", "loan"), "211": ("应付款", "payable"),
        "212": ("应付工资", "payroll"), "213": ("应付劳务费", "labour"), "214": ("应交税费", "tax"),
        "221": ("长期借款及应付款", "loan"), "231": ("一事一议资金", "earmarked"), "241": ("专项应付款", "earmarked"),
        "301": ("资本", "equity"), "311": ("公积公益金", "equity"), "321": ("本年收益", "equity"),
        "322": ("收益分配", "equity"), "401": ("生产(劳务)成本", "cost"), "501": ("经营收入", "income_operating"),
        "502": ("投资收益", "income_investment"), "503": ("补助收入", "income_subsidy"),
        "504": ("其他收入", "income_other"), "511": ("经营支出", "operating_expense"),
        "512": ("税金及附加", "tax_expense"), "513": ("管理费用", "admin_expense"), "514": ("公益支出", "public_welfare"),
        "515": ("其他支出", "other_expense"), "521": ("所得税费用", "income_tax"),
    },
    VILLAGE_2004: {
        "101": ("现金", "cash"), "102": ("银行存款", "bank"), "111": ("短期投资", "investment"),
        "112": ("应收款", "receivable"), "113": ("内部往来", "internal"), "121": ("库存物资", "inventory"),
        "131": ("牲畜(禽)资产", "bio_asset"), "132": ("林木资产", "bio_asset"), "141": ("长期投资", "investment"),
        "151": ("固定资产", "fixed_asset"), "152": ("累计折旧", "depreciation"),
        "153": ("固定资产清理", "asset_disposal"), "154": ("在建工程", "construction"), "201": ("短期借款", "loan"),
        "202": ("应付款", "payable"), "211": ("应付工资", "payroll"), "212": ("应付福利费", "welfare"),
        "221": ("长期借款及应付款", "loan"), "231": ("一事一议资金", "earmarked"), "301": ("资本", "equity"),
        "311": ("公积公益金", "equity"), "321": ("本年收益", "equity"), "322": ("收益分配", "equity"),
        "401": ("生产(劳务)成本", "cost"), "501": ("经营收入", "income_operating"),
        "502": ("经营支出", "operating_expense"), "511": ("发包及上交收入", "income_lease"),
        "521": ("农业税附加返还收入", "income_other"), "522": ("补助收入", "income_subsidy"),
        "531": ("其他收入", "income_other"), "541": ("管理费用", "admin_expense"), "551": ("其他支出", "other_expense"),
        "561": ("投资收益", "income_investment"),
    },
    # 小企业会计准则 (财会〔2011〕17号): the template of most 金蝶/用友 company books
    ENTERPRISE: {
        "1001": ("库存现金", "cash"), "1002": ("银行存款", "bank"), "1012": ("其他货币资金", "bank"),
        "1101": ("短期投资", "investment"), "1121": ("应收票据", "receivable"), "1122": ("应收账款", "receivable"),
        "1123": ("预付账款", "receivable"), "1131": ("应收股利", "receivable"), "1132": ("应收利息", "receivable"),
        "1221": ("其他应收款", "receivable"), "1401": ("材料采购", "inventory"), "1402": ("在途物资", "inventory"),
        "1403": ("原材料", "inventory"), "1404": ("材料成本差异", "inventory"), "1405": ("库存商品", "inventory"),
        "1407": ("商品进销差价", "inventory"), "1408": ("委托加工物资", "inventory"), "1411": ("周转材料", "inventory"),
        "1421": ("消耗性生物资产", "bio_asset"), "1501": ("长期债券投资", "investment"),
        "1511": ("长期股权投资", "investment"), "1601": ("固定资产", "fixed_asset"), "1602": ("累计折旧", "depreciation"),
        "1604": ("在建工程", "construction"), "1605": ("工程物资", "construction"),
        "1606": ("固定资产清理", "asset_disposal"), "1621": ("生产性生物资产", "bio_asset"),
        "1622": ("生产性生物资产累计折旧", "depreciation"), "1701": ("无形资产", "intangible"),
        "1702": ("累计摊销", "depreciation"), "1801": ("长期待摊费用", "deferred"), "1901": ("待处理财产损溢", "deferred"),
        "2001": ("短期借款", "loan"), "2201": ("应付票据", "payable"), "2202": ("应付账款", "payable"),
        "2203": ("预收账款", "payable"), "2211": ("应付职工薪酬", "payroll"), "2221": ("应交税费", "tax"),
        "2231": ("应付利息", "payable"), "2232": ("应付利润", "payable"), "2241": ("其他应付款", "payable"),
        "2401": ("递延收益", "deferred"), "2501": ("长期借款", "loan"), "2701": ("长期应付款", "payable"),
        "3001": ("实收资本", "equity"), "3002": ("资本公积", "equity"), "3101": ("盈余公积", "equity"),
        "3103": ("本年利润", "equity"), "3104": ("利润分配", "equity"), "4001": ("生产成本", "cost"),
        "4101": ("制造费用", "cost"), "4301": ("研发支出", "cost"), "4401": ("工程施工", "construction"),
        "4403": ("机械作业", "cost"), "5001": ("主营业务收入", "income_operating"),
        "5051": ("其他业务收入", "income_other"), "5111": ("投资收益", "income_investment"),
        "5301": ("营业外收入", "income_other"), "5401": ("主营业务成本", "operating_expense"),
        "5402": ("其他业务成本", "operating_expense"), "5403": ("营业税金及附加", "tax_expense"),
        "5601": ("销售费用", "operating_expense"), "5602": ("管理费用", "admin_expense"),
        "5603": ("财务费用", "other_expense"), "5711": ("营业外支出", "other_expense"),
        "5801": ("所得税费用", "income_tax"),
    },
}
LEVEL1_DIGITS = {VILLAGE_2004: 3, VILLAGE_2024: 3, ENTERPRISE: 4}

# The roles whose debit pays someone (works, goods, services, wages, labour, payables settled, costs, expenses).
PAYMENT_ROLES = frozenset({"inventory", "fixed_asset", "construction", "asset_disposal", "payable", "payroll",
                           "welfare", "labour", "cost", "operating_expense", "admin_expense", "public_welfare",
                           "other_expense"})
# The tender category (thresholds.tender_limit) a payment on each role falls under.
TENDER_CATEGORY = {"construction": "工程", "fixed_asset": "货物", "inventory": "货物", "public_welfare": "服务",
                   "operating_expense": "服务", "admin_expense": "服务", "cost": "服务"}


def row_charts(dates: pd.Series, charts: pd.Series | None = None, switch: dt.date = SWITCH) -> np.ndarray:
    """The chart of each row: its own ``chart`` value when set, else the village chart in force on its date."""
    d = pd.to_datetime(dates, errors="coerce").to_numpy()
    by_date = np.where(d >= np.datetime64(switch), VILLAGE_2024, VILLAGE_2004).astype(object)
    if charts is None:
        return by_date
    known = charts.isin(list(CHARTS)).to_numpy(dtype=bool)
    if not known.any():
        return by_date
    return np.where(known, charts.astype("object").to_numpy(), by_date)


def _by_code(codes: pd.Series, which: np.ndarray, value) -> np.ndarray:
    """Per row, ``value(code, chart)`` computed once per distinct (code, chart) pair: a county's million ledger
    lines use a few hundred account codes, so string work on the distinct ones is ~10x faster than per row."""
    ci, uniq = pd.factorize(codes)  # NA → -1, looked up as ""
    names = ["" if u is None or u != u else str(u) for u in uniq] + [""]
    wi, charts = pd.factorize(which)
    table = np.empty(len(names) * len(charts), dtype=object)
    for j, c in enumerate(charts):
        for i, u in enumerate(names):
            table[i * len(charts) + j] = value(u, c)
    ci = np.where(ci < 0, len(names) - 1, ci).astype(np.int64)
    return table[ci * len(charts) + wi]


def _lookup(codes: pd.Series, which: np.ndarray, part: int) -> np.ndarray:
    """Per row, (name, role)[part] of the level-1 account of its code in its chart, NaN where it has none."""
    def value(code: str, c: str):
        hit = CHARTS[c].get(code[:LEVEL1_DIGITS[c]])
        return np.nan if hit is None else hit[part]

    return _by_code(codes, which, value)


def roles(codes: pd.Series, dates: pd.Series, charts: pd.Series | None = None, switch: dt.date = SWITCH) -> pd.Series:
    """The role of every ledger line's account (None for a code the chart does not have)."""
    return pd.Series(_lookup(codes, row_charts(dates, charts, switch), 1), index=codes.index, dtype=object)


def level1(codes: pd.Series, dates: pd.Series, charts: pd.Series | None = None, switch: dt.date = SWITCH) -> pd.Series:
    """The level-1 part of every code (3 digits in village charts, 4 in the enterprise chart)."""
    which = row_charts(dates, charts, switch)
    return pd.Series(_by_code(codes, which, lambda code, c: code[:4] if c == ENTERPRISE else code[:3]),
                     index=codes.index, dtype=object)


def valid_mask(codes: pd.Series, dates: pd.Series, charts: pd.Series | None = None, switch: dt.date = SWITCH
               ) -> np.ndarray:
    """True where the code is a level-1 code of its chart, or a sub-account of one (3 or 4 more digits a level)."""
    s = codes.astype("object").fillna("").astype("str")
    which = row_charts(dates, charts, switch)
    village = s.str.fullmatch(r"\d{3}((\d{3})*|(\d{2})+)").fillna(False).to_numpy(dtype=bool)
    enterprise = s.str.fullmatch(r"\d{4}\d*").fillna(False).to_numpy(dtype=bool)
    shape = np.where(which == ENTERPRISE, enterprise, village)
    known = pd.notna(_lookup(codes, which, 1))
    return shape & known


def detect(codes: pd.Series) -> str | None:
    """"enterprise" when a book's codes are the 小企业会计准则 chart (four-digit level 1), None for village books."""
    s = codes.astype("object").fillna("").astype("str")
    s = s[s.str.fullmatch(r"\d{4,}")]
    if s.empty:
        return None
    ent = s.str.slice(0, 4).isin(list(CHARTS[ENTERPRISE]))
    vil = s.str.slice(0, 3).isin(list(CHARTS[VILLAGE_2024]) + list(CHARTS[VILLAGE_2004]))
    return ENTERPRISE if (ent & ~vil).mean() > 0.5 else None


def describe() -> str:
    """The role table for docs/importing.md."""
    lines = ["| role | meaning | village 2004 | village 2024 | enterprise |", "|---|---|---|---|---|"]
    for role, label in ROLES.items():
        cells = [", ".join(f"{k} {v[0]}" for k, v in CHARTS[c].items() if v[1] == role) or "—"
                 for c in (VILLAGE_2004, VILLAGE_2024, ENTERPRISE)]
        lines.append(f"| `{role}` | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
