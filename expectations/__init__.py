"""Expectation suites, one reviewable JSON file per input table, and the custom expectations they use.

Installed as ``sanzi_audit.expectations``. See expectations/README.md for how to add an expectation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

SEVERITY_TO_ACTION = {"critical": "reject", "warning": "warn"}


class SuiteError(RuntimeError):
    """A suite file is unreadable, names an unknown expectation, or lost entries while loading."""


@dataclass(frozen=True)
class Rule:
    """What the pipeline needs from one suite entry besides the GX expectation itself."""

    id: str  # stable name used in quarantine reasons and data-quality leads
    action: str  # reject | warn
    message: str  # Chinese, for the person fixing the source
    columns: tuple[str, ...]
    lead: bool  # a failing warn rule also becomes a data-quality lead


def suite_json(table: str) -> dict:
    path = resources.files(__name__).joinpath(f"{table}.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SuiteError(f"期望套件 expectations/{table}.json 无法读取: {exc}") from exc


def load_suite(table: str):
    """The table's ExpectationSuite and its rules, in suite order; refuses to lose an entry silently.

    GX drops a suite entry whose expectation type is not registered (its module was never imported) with only
    a log line, and a checkpoint over the shrunken suite then passes. Import our custom expectations first,
    resolve every type explicitly, and compare counts after building the suite.
    """
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.expectations.registry import get_expectation_impl

    from . import custom  # noqa: F401  (registers the custom expectations)

    data = suite_json(table)
    entries = data.get("expectations", [])
    rules, expectations = [], []
    for i, e in enumerate(entries):
        where = f"expectations/{table}.json 第 {i + 1} 条 ({e.get('type')})"
        try:
            get_expectation_impl(e["type"])
        except Exception as exc:  # GX raises its own not-found error type
            raise SuiteError(f"{where}: 期望类型未注册（自定义期望模块未导入或拼写错误）: {exc}") from exc
        meta = e.get("meta") or {}
        severity = e.get("severity", "critical")
        if severity not in SEVERITY_TO_ACTION or not meta.get("id") or not meta.get("message"):
            raise SuiteError(f"{where}: 需要 severity (critical|warning) 以及 meta.id 和 meta.message")
        kw = e.get("kwargs", {})
        cols = tuple(kw.get("column_list") or [c for c in (kw.get("column"), kw.get("column_A"), kw.get("column_B"))
                                              if c])
        rules.append(Rule(meta["id"], SEVERITY_TO_ACTION[severity], meta["message"], cols, bool(meta.get("lead"))))
        conf = ExpectationConfiguration(type=e["type"], kwargs=kw, meta=meta, severity=severity)
        expectations.append(conf.to_domain_obj())
    suite = gx.ExpectationSuite(name=data.get("name", table), expectations=expectations, meta=data.get("meta", {}))
    if len(suite.expectations) != len(entries) or len({r.id for r in rules}) != len(rules):
        raise SuiteError(f"expectations/{table}.json: 载入后期望条数 {len(suite.expectations)} ≠ 文件中的 {len(entries)}"
                         "，或 meta.id 重复")
    return suite, rules
