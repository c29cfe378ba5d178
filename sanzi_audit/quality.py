"""Run the expectation suites (Great Expectations) over typed tables and turn failures into row reasons.

One GX context per run: an ephemeral context holding the five suites from ``expectations/``, a pandas data
source, and, when a folder is given, a Data Docs site built into it (offline-viewable HTML). Rows are
identified to GX by a ``_pos`` column (their position in the typed frame), so a failure maps back to the source
file's row number and raw values.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .expectations import Rule, load_suite
from .masking import mask_text

POS = "_pos"


class QualityError(RuntimeError):
    """An expectation could not be evaluated: the rows it guards were not checked, so the run must not pass."""


@dataclass
class Failure:
    rule: Rule
    positions: np.ndarray  # positions in the frame given to validate()
    values: list  # the offending value(s) per position, for the message


@dataclass
class Outcome:
    """One expectation's result, for the run summary and the Data Docs link."""

    table: str
    id: str
    type: str
    action: str
    success: bool
    checked: int
    unexpected: int


@dataclass
class TableQuality:
    table: str
    failures: list[Failure] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


def parameters(county_code: str, villages: list[str] | None, period_start: dt.date, period_end: dt.date,
               today: dt.date | None = None) -> dict:
    """The suite parameters ($PARAMETER in the suite files) for one run."""
    return {"county_code": county_code, "villages": list(villages or []),
            "period_start": pd.Timestamp(period_start), "period_end": pd.Timestamp(period_end),
            "today": pd.Timestamp(today or dt.date.today())}


class Validator:
    """Runs the table suites. The GX context (a few seconds to import and set up) is created on the first
    non-empty table, so a night with nothing new costs nothing here."""

    def __init__(self, params: dict, docs_dir: Path | None = None):
        self.params = params
        self.docs_dir = Path(docs_dir) if docs_dir else None
        self.context: Any = None  # the run's ephemeral GX context (GX's own types are not exported)
        self.source: Any = None

    def _setup(self) -> None:
        import great_expectations as gx

        from . import compat

        compat.gx_skip_batch_hashing()
        for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
            logging.getLogger(name).setLevel(logging.ERROR)
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        # no temporary docs site (the default leaves a folder in /tmp per context), no progress bars
        config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                                   progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False))
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        if self.docs_dir is not None:
            self.docs_dir.mkdir(parents=True, exist_ok=True)
            self.context.add_data_docs_site("sanzi", {
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(self.docs_dir.resolve())},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            })
        self.source = self.context.data_sources.add_pandas("sanzi")

    def validate(self, table: str, frame: pd.DataFrame) -> TableQuality:
        """Run the table's suite over ``frame`` (typed columns; a ``_pos`` column is added here)."""
        if frame.empty:  # nothing new tonight: nothing to check (and no 5 s GX import)
            return TableQuality(table)
        import great_expectations as gx

        suite, rules = load_suite(table)
        if self.context is None:
            self._setup()
        by_id = {r.id: r for r in rules}
        suite = self.context.suites.add(suite)
        batch = self.source.add_dataframe_asset(table).add_batch_definition_whole_dataframe(table)
        vd = self.context.validation_definitions.add(gx.ValidationDefinition(name=table, data=batch, suite=suite))
        # only the columns the suite reads: GX filters the whole frame for every expectation's failing rows
        # (result_format COMPLETE), and 22 ledger columns cost 22 takes each time
        used = {c for r in rules for c in r.columns}
        conditions = any(getattr(e, "row_condition", None) for e in suite.expectations)
        keep = list(frame.columns) if conditions else [c for c in frame.columns if c in used]
        df = frame[keep].copy(deep=False)
        df[POS] = np.arange(len(df), dtype=np.int64)
        try:
            result = vd.run(batch_parameters={"dataframe": df}, expectation_parameters=self.params,
                            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [POS],
                                           "return_unexpected_index_query": False})
        finally:
            self._forget_batches()
        out = TableQuality(table)
        if len(result.results) != len(rules):
            raise QualityError(f"{table}: 期望套件有 {len(rules)} 条，实际执行 {len(result.results)} 条")
        for r in result.results:
            cfg = r.expectation_config
            rule = by_id[cfg.meta["id"]]
            error = _raised(r.exception_info)
            if error is not None:
                raise QualityError(f"{table}: 期望 {rule.id} ({cfg.type}) 执行出错，该规则未检查任何行: {error}")
            res = r.result or {}
            index = res.get("unexpected_index_list") or []
            positions = np.fromiter((int(i[POS]) for i in index), dtype=np.int64, count=len(index))
            values = [_value_of(i, rule.columns) for i in index]
            out.outcomes.append(Outcome(table, rule.id, cfg.type, rule.action, bool(r.success),
                                        int(res.get("element_count", len(df)) or 0), len(positions)))
            if len(positions):
                out.failures.append(Failure(rule, positions, values))
        return out

    def _forget_batches(self) -> None:
        """GX's global project manager keeps the last context, and its execution engine keeps every batch it
        validated: the whole typed table, until the next run replaces the context (a second night in the same
        process, or the next county on a province worker, carried the last one's 1.6 GB). Results do not need it."""
        from . import compat

        compat.gx_forget_batches(self.source)

    def build_docs(self) -> Path | None:
        """Render the Data Docs site for this run's validations; returns its index.html."""
        if self.docs_dir is None or self.context is None:
            return None
        self._sanitize_results()
        self.context.build_data_docs(site_names=["sanzi"])
        index = self.docs_dir / "index.html"
        return index if index.exists() else None


    def _sanitize_results(self) -> None:
        """The stored results are what Data Docs render, and GX writes their values into the HTML unescaped: a
        ``<img onerror=…>`` in officials.relation ran when the page was opened, and every ID that failed a check
        stood there in full. Before the site is built each stored result is rewritten with its values masked,
        HTML-escaped and cut to DOCS_VALUES (our own rows come from the results vd.run returned, not these)."""
        results = self.context.validation_results_store
        for key in results.list_keys():
            res = results.get(key)
            for r in res.results:
                if r.result:
                    r.result = _safe_result(r.result)
            results.set(key, res)


DOCS_VALUES = 20  # values shown per expectation in Data Docs


def _safe(v):
    if isinstance(v, str):
        return html.escape(mask_text(v), quote=True)
    if isinstance(v, dict):
        return {k: _safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_safe(x) for x in list(v)[:DOCS_VALUES]]
    if isinstance(v, int) and not isinstance(v, bool) and len(str(abs(v))) >= 12:
        return mask_text(str(v))
    return v


def _safe_result(result: dict) -> dict:
    out = {}
    for k, v in result.items():
        if k in ("unexpected_index_list", "partial_unexpected_index_list", "unexpected_index_query"):
            continue  # our row positions: nothing for a reader of the docs
        out[k] = _safe(v)
    return out


def _raised(info) -> str | None:
    """GX reports an expectation's error either at the top of exception_info or keyed by metric id."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for v in info.values():
        if isinstance(v, dict) and v.get("raised_exception"):
            return str(v.get("exception_message"))
    return None


def _value_of(item: dict, columns: tuple[str, ...]):
    vals = [item.get(c) for c in columns if c in item]
    if not vals:
        return None
    return vals[0] if len(vals) == 1 else vals
