"""The two charts of accounts of 村集体经济组织 (level-1 codes; sub-accounts add 3 digits, e.g. 112001).

The chart in force depends on the entry's date: books before 2024-01-01 use the 2004 chart (农村集体经济组织会计
制度, 财会〔2004〕12号), books from then on the 2024 chart (财会〔2023〕14号). Codes moved between them
(管理费用 541 → 513), so checking a code against the wrong chart misreads the entry.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sanzi_audit.chart import CHARTS, SWITCH, VILLAGE_2004, VILLAGE_2024, valid_mask

# level-1 code → name, per village chart (the role of each is in sanzi_audit/chart.py, the one source)
CHART_2024 = {k: v[0] for k, v in CHARTS[VILLAGE_2024].items()}
CHART_2004 = {k: v[0] for k, v in CHARTS[VILLAGE_2004].items()}


def chart_for(date: dt.date, switch: dt.date = SWITCH) -> dict[str, str]:
    return CHART_2024 if date >= switch else CHART_2004


def level1_valid_mask(codes: pd.Series, dates: pd.Series, switch: dt.date, charts: pd.Series | None = None) -> np.ndarray:
    """True where the code is a level-1 code, or a sub-account of one, in the row's chart (its ``chart`` column, else
    the village chart in force on the date)."""
    return valid_mask(codes, dates, charts, switch)
