"""Custom Great Expectations for 三资 exports: what the built-in expectations cannot say.

Every condition is vectorised over the whole column (numpy / Arrow kernels), never a Python call per row:
the ledger of a 300-village county has about a million lines.

GX registers an expectation class when its module is imported, and silently drops a suite entry whose type it
does not know (the checkpoint then passes). ``sanzi_audit.expectations.load_suite`` imports this module first
and refuses a suite whose entries did not all survive loading.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    MulticolumnMapExpectation,
)
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    ColumnPairMapMetricProvider,
    MulticolumnMapMetricProvider,
    column_condition_partial,
    column_pair_condition_partial,
    multicolumn_condition_partial,
)

from sanzi_audit.identifiers import ric_valid_mask, uscc_valid_mask

from .charts import level1_valid_mask


def _legacy(s: pd.Series) -> np.ndarray:
    """15-digit 身份证号 issued before 1999 (no check character)."""
    return s.str.fullmatch(r"\d{15}").fillna(False).to_numpy(dtype=bool)


_MULTI_DOMAIN = ("batch_id", "table", "column_list", "row_condition", "condition_parser", "ignore_row_if")


# ---- 居民身份证号 (GB 11643) ---------------------------------------------------------------------------

class ColumnValuesValidRic(ColumnMapMetricProvider):
    """18-character IDs with a correct check character and a real birth date; 15-digit legacy IDs pass here
    (they have no check character) and are flagged by expect_column_values_to_not_be_legacy_ric."""

    condition_metric_name = "column_values.valid_ric"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs):
        s = column.astype("str")
        return pd.Series(ric_valid_mask(s).to_numpy() | _legacy(s), index=column.index)


class ExpectColumnValuesToBeValidRic(ColumnMapExpectation):
    """居民身份证号: check character (GB 11643) and birth date; lower-case x and full-width digits are
    normalised before this runs."""

    map_metric = "column_values.valid_ric"
    success_keys = ("mostly",)


class ColumnValuesNotLegacyRic(ColumnMapMetricProvider):
    condition_metric_name = "column_values.not_legacy_ric"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs):
        return pd.Series(~_legacy(column.astype("str")), index=column.index)


class ExpectColumnValuesToNotBeLegacyRic(ColumnMapExpectation):
    """15-digit 身份证号 (issued before 1999): valid but uncheckable, and it will not match the 18-digit
    number of the same person on another roll."""

    map_metric = "column_values.not_legacy_ric"
    success_keys = ("mostly",)


# ---- 统一社会信用代码 (GB 32100) or an ID number ----------------------------------------------------------

class ColumnValuesValidPartyId(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_party_id"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs):
        s = column.astype("str")
        ok = ric_valid_mask(s).to_numpy() | uscc_valid_mask(s).to_numpy() | _legacy(s)
        return pd.Series(ok, index=column.index)


class ExpectColumnValuesToBeValidPartyId(ColumnMapExpectation):
    """A counterparty's identifier is a valid 统一社会信用代码 or 居民身份证号 (check characters)."""

    map_metric = "column_values.valid_party_id"
    success_keys = ("mostly",)


# ---- 统计用区划代码: this county's villages ---------------------------------------------------------------

class ColumnValuesKnownVillage(ColumnMapMetricProvider):
    condition_metric_name = "column_values.known_village"
    condition_value_keys = ("county_code", "villages")

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, county_code: str = "", villages: list | None = None, **kwargs):
        s = column.astype("str")
        # township part 001–399, never 000 (that would be the county itself)
        ok = s.str.fullmatch(re.escape(str(county_code)) + r"(?:00[1-9]|0[1-9]\d|[1-3]\d\d)\d{3}").fillna(False)
        if villages:
            ok &= s.isin(set(map(str, villages)))
        return ok.astype(bool)


class ExpectColumnValuesToBeKnownVillage(ColumnMapExpectation):
    """The village code belongs to the county being loaded (its 6-digit prefix, a township part 001–399) and,
    when the region lists its villages, is one of them."""

    map_metric = "column_values.known_village"
    success_keys = ("mostly", "county_code", "villages")
    county_code: Any
    villages: Any = None


# ---- dates ----------------------------------------------------------------------------------------------

class ColumnValuesDateBetween(ColumnMapMetricProvider):
    condition_metric_name = "column_values.date_between"
    condition_value_keys = ("min_value", "max_value")

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, min_value=None, max_value=None, **kwargs):
        d = pd.to_datetime(column).to_numpy()
        ok = np.ones(len(d), dtype=bool)
        if min_value is not None:
            ok &= d >= np.datetime64(pd.Timestamp(min_value))
        if max_value is not None:
            ok &= d <= np.datetime64(pd.Timestamp(max_value))
        return pd.Series(ok, index=column.index)


class ExpectColumnValuesToBeDateBetween(ColumnMapExpectation):
    """Dates within [min_value, max_value] (either may be omitted), compared as whole arrays: GX's built-in
    between expectation tests datetimes one row at a time (about 5 s per million rows)."""

    map_metric = "column_values.date_between"
    success_keys = ("mostly", "min_value", "max_value")
    min_value: Any = None
    max_value: Any = None


# ---- chart of accounts by entry date -----------------------------------------------------------------

class ColumnPairAccountInChart(ColumnPairMapMetricProvider):
    condition_metric_name = "column_pair_values.account_in_chart"
    condition_domain_keys = ("batch_id", "table", "column_A", "column_B", "row_condition", "condition_parser",
                             "ignore_row_if")
    condition_value_keys = ("switch_date",)

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_A: pd.Series, column_B: pd.Series, switch_date: str = "2024-01-01", **kwargs):
        return pd.Series(level1_valid_mask(column_A, column_B, dt.date.fromisoformat(switch_date)),
                         index=column_A.index)


class ExpectColumnPairValuesToBeAccountInChart(ColumnPairMapExpectation):
    """column_A (account code) resolves, through its first three digits, to a level-1 account of the chart in
    force on column_B (entry date): the 2004 chart before ``switch_date``, the 2024 chart (财会〔2023〕14号)
    from it."""

    map_metric = "column_pair_values.account_in_chart"
    success_keys = ("column_A", "column_B", "ignore_row_if", "mostly", "switch_date")
    switch_date: str = "2024-01-01"
    ignore_row_if: str = "either_value_is_missing"  # a missing code or date is the not-null expectations' job


class MulticolumnAccountInChart(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.account_in_chart"
    condition_domain_keys = _MULTI_DOMAIN
    condition_value_keys = ("switch_date",)

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list: pd.DataFrame, switch_date: str = "2024-01-01", **kwargs):
        codes, dates = column_list.iloc[:, 0], column_list.iloc[:, 1]
        charts = column_list.iloc[:, 2] if column_list.shape[1] > 2 else None
        ok = level1_valid_mask(codes, dates, dt.date.fromisoformat(switch_date), charts)
        return pd.Series(ok | codes.isna().to_numpy() | dates.isna().to_numpy(), index=column_list.index)


class ExpectMulticolumnValuesToBeAccountInChart(MulticolumnMapExpectation):
    """[account code, entry date, chart]: the code resolves, through its level-1 part, to an account of the row's
    chart (its chart column: enterprise books use the 小企业会计准则 chart), else of the village chart in force on
    the date: 2004 before ``switch_date``, 2024 (财会〔2023〕14号) from it. A missing code or date is the not-null
    expectations' job."""

    map_metric = "multicolumn_values.account_in_chart"
    success_keys = ("column_list", "ignore_row_if", "mostly", "switch_date")
    switch_date: str = "2024-01-01"
    ignore_row_if: str = "never"


# ---- ledger lines and vouchers --------------------------------------------------------------------------

class MulticolumnOneSided(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.one_sided"
    condition_domain_keys = _MULTI_DOMAIN

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list: pd.DataFrame, **kwargs):
        d = column_list.iloc[:, 0].fillna(0.0).to_numpy(dtype=float)
        c = column_list.iloc[:, 1].fillna(0.0).to_numpy(dtype=float)
        return pd.Series((d != 0) ^ (c != 0), index=column_list.index)


class ExpectMulticolumnValuesToBeOneSided(MulticolumnMapExpectation):
    """Exactly one of [debit, credit] carries an amount on each ledger line."""

    map_metric = "multicolumn_values.one_sided"
    success_keys = ("column_list", "ignore_row_if", "mostly")
    ignore_row_if: str = "never"  # a line with neither amount must fail, not be skipped


class MulticolumnVoucherBalances(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.voucher_balances"
    condition_domain_keys = _MULTI_DOMAIN
    condition_value_keys = ("tolerance",)

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list: pd.DataFrame, tolerance: float = 0.005, **kwargs):
        village, voucher = column_list.iloc[:, 0], column_list.iloc[:, 1]
        diff = column_list.iloc[:, 2].fillna(0.0) - column_list.iloc[:, 3].fillna(0.0)
        key = pd.MultiIndex.from_arrays([village, voucher]).codes  # group codes without string concatenation
        group = key[0].astype(np.int64) * (int(key[1].max(initial=0)) + 2) + key[1]
        _, inverse = np.unique(group, return_inverse=True)
        sums = np.bincount(inverse, weights=diff.to_numpy(dtype=float))
        return pd.Series(np.abs(sums[inverse]) <= tolerance, index=column_list.index)


class ExpectMulticolumnValuesToBeBalancedVoucher(MulticolumnMapExpectation):
    """Each voucher balances: Σ debit = Σ credit over the lines sharing column_list[0:2] (village, voucher no),
    within ``tolerance`` 元. Every line of an unbalanced voucher fails."""

    map_metric = "multicolumn_values.voucher_balances"
    success_keys = ("column_list", "ignore_row_if", "mostly", "tolerance")
    tolerance: float = 0.005
    ignore_row_if: str = "never"


CUSTOM: ClassVar = (ExpectColumnValuesToBeValidRic, ExpectColumnValuesToBeDateBetween, ExpectColumnValuesToNotBeLegacyRic,
                    ExpectColumnValuesToBeValidPartyId, ExpectColumnValuesToBeKnownVillage,
                    ExpectColumnPairValuesToBeAccountInChart, ExpectMulticolumnValuesToBeOneSided,
                    ExpectMulticolumnValuesToBeBalancedVoucher)
