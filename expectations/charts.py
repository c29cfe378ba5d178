"""The two charts of accounts of 村集体经济组织 (level-1 codes; sub-accounts add 3 digits, e.g. 112001).

The chart in force depends on the entry's date: books before 2024-01-01 use the 2004 chart (农村集体经济组织会计
制度, 财会〔2004〕12号), books from then on the 2024 chart (财会〔2023〕14号). Codes moved between them
(管理费用 541 → 513), so checking a code against the wrong chart misreads the entry.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

CHART_2024 = {
    "101": "库存现金", "102": "银行存款", "111": "短期投资", "112": "应收款", "113": "内部往来", "121": "库存物资",
    "131": "消耗性生物资产", "132": "生产性生物资产", "133": "生产性生物资产累计折旧", "134": "公益性生物资产",
    "141": "长期投资", "151": "固定资产", "152": "累计折旧", "153": "在建工程", "154": "固定资产清理",
    "161": "无形资产", "162": "累计摊销", "171": "长期待摊费用", "181": "待处理财产损溢",
    "201": "短期借款", "211": "应付款", "212": "应付工资", "213": "应付劳务费", "214": "应交税费",
    "221": "长期借款及应付款", "231": "一事一议资金", "241": "专项应付款",
    "301": "资本", "311": "公积公益金", "321": "本年收益", "322": "收益分配",
    "401": "生产(劳务)成本",
    "501": "经营收入", "502": "投资收益", "503": "补助收入", "504": "其他收入",
    "511": "经营支出", "512": "税金及附加", "513": "管理费用", "514": "公益支出", "515": "其他支出", "521": "所得税费用",
}

CHART_2004 = {
    "101": "现金", "102": "银行存款", "111": "短期投资", "112": "应收款", "113": "内部往来", "121": "库存物资",
    "131": "牲畜(禽)资产", "132": "林木资产", "141": "长期投资", "151": "固定资产", "152": "累计折旧",
    "153": "固定资产清理", "154": "在建工程",
    "201": "短期借款", "202": "应付款", "211": "应付工资", "212": "应付福利费", "221": "长期借款及应付款",
    "231": "一事一议资金",
    "301": "资本", "311": "公积公益金", "321": "本年收益", "322": "收益分配",
    "401": "生产(劳务)成本",
    "501": "经营收入", "502": "经营支出", "511": "发包及上交收入", "521": "农业税附加返还收入", "522": "补助收入",
    "531": "其他收入", "541": "管理费用", "551": "其他支出", "561": "投资收益",
}


def chart_for(date: dt.date, switch: dt.date = dt.date(2024, 1, 1)) -> dict[str, str]:
    return CHART_2024 if date >= switch else CHART_2004


def level1_valid_mask(codes: pd.Series, dates: pd.Series, switch: dt.date) -> np.ndarray:
    """True where the code is a level-1 code, or a sub-account (3 more digits per level) of one, in the chart
    in force on the date."""
    s = codes.astype("str")
    shape = s.str.fullmatch(r"\d{3}(\d{3})*").fillna(False).to_numpy(dtype=bool)
    head = s.str.slice(0, 3)
    new = pd.to_datetime(dates).to_numpy() >= np.datetime64(switch)
    in_new = head.isin(list(CHART_2024)).to_numpy(dtype=bool)
    in_old = head.isin(list(CHART_2004)).to_numpy(dtype=bool)
    return shape & np.where(new, in_new, in_old)
