"""The nightly flow: extract → validate → load → detect → rank → publish → report.

Each stage is a small task that logs its counts; the flow only wires them and keeps the run's book
(the ``runs`` row): a crash marks the run failed and leaves the previous night's leads as they were.
Runs without a Prefect server (a temporary one starts) and under a server (prefect.yaml).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from sanzi_audit import pipeline, review, store
from sanzi_audit.config import Config, load_config
from sanzi_audit.detectors.base import DetectorInput, Lead
from sanzi_audit.pipeline import RunSummary
from sanzi_audit.registry import DetectorReport
from sanzi_audit.sources import Extract, check_source, extract
from sanzi_audit.validate import Validated

# DataFrames pass between tasks in memory: no input hashing, no result persistence.
_TASK: dict[str, Any] = dict(cache_policy=NO_CACHE, persist_result=False)


@task(name="extract", retries=2, retry_delay_seconds=10, **_TASK)
def extract_task(source: str, config: Config | None = None) -> Extract:
    ex = extract(source, config=config)
    log = get_run_logger()
    skipped = [f.path for f in ex.files if f.skipped]
    if skipped:
        log.info("extract: %d files are not tables and were left out: %s", len(skipped), ", ".join(skipped[:20]))
    for f in ex.files:
        for sh in f.sheets:
            log.info("extract %s [%s]: %s, %d data rows, layout %s, village %s", f.path, sh.sheet,
                     sh.profile or "-", sh.data_rows, sh.layout, sh.village_code or "-")
    for name, raw in ex.tables.items():
        log.info("extract %s: %d rows from %s (%s)", name, raw.rows_read, raw.file, raw.encoding)
    for p in ex.problems:
        log.warning("extract %s: %s", p.table, p.message)
    if ex.absent:
        log.info("extract: optional tables absent: %s", ", ".join(ex.absent))
    return ex


@task(name="validate", **_TASK)
def validate_task(ex: Extract, config: Config, docs_dir: str | None) -> pipeline.ValidationRun:
    validated = pipeline.validate_all(ex, config, docs_dir)
    log = get_run_logger()
    for c in pipeline.counts_of(validated):
        log.info("validate %s: read %d = loaded %d + quarantined %d (%d loaded with warnings)", c.table, c.read,
                 c.loaded, c.quarantined, c.warned)
    if validated.data_docs:
        log.info("validate: Data Docs at %s", validated.data_docs)
    return validated


@task(name="places", **_TASK)
def places_task(db_url: str, validated: dict[str, Validated], config: Config) -> int:
    """Village and township names for the review pages (from the directory, else the books)."""
    names = pipeline.places_of(validated, config)
    store.record_places(store.connect(db_url), names)
    get_run_logger().info("places: %d names", len(names))
    return len(names)


@task(name="load", **_TASK)
def load_task(db_url: str, validated: dict[str, Validated], run_id: int,
              fp: pipeline.Fingerprints | None = None) -> tuple[pipeline.Loaded, float]:
    t0 = time.perf_counter()
    loaded = pipeline.load_alongside(db_url, validated, run_id)
    remembered = pipeline.remember_loaded(store.connect(db_url), validated, fp, run_id) if fp is not None else 0
    get_run_logger().info("load: %s; %d row fingerprints remembered",
                          ", ".join(f"{k} {v}" for k, v in loaded.rows.items()), remembered)
    return loaded, round(time.perf_counter() - t0, 3)


@task(name="history", **_TASK)
def history_task(db_url: str, validated: dict[str, Validated], run_id: int, config: Config) -> DetectorInput:
    """Tonight's rows plus the history they do not replace, read before tonight's load touches the warehouse."""
    return pipeline.detector_input(store.connect(db_url), validated, run_id, config, url=db_url)


@task(name="detect", **_TASK)
def detect_task(data: DetectorInput, config: Config) -> tuple[list[Lead], list[DetectorReport]]:
    leads, reports = pipeline.detect(data, config)
    log = get_run_logger()
    for r in reports:
        log.info("detect %s: %s, %d leads, %.1f s %s", r.name, r.status, r.leads, r.seconds, r.reason)
    return leads, reports


@task(name="rank", **_TASK)
def rank_task(db_url: str, leads: list[Lead], config: Config) -> pd.DataFrame:
    ranked = pipeline.rank(leads, config, store.connect(db_url))
    get_run_logger().info("rank: %d leads in %d cases", len(ranked), ranked["case_id"].nunique() if len(ranked) else 0)
    return ranked


@task(name="publish", **_TASK)
def publish_task(db_url: str, ranked: pd.DataFrame, run_id: int, config: Config, complete: bool,
                 detectors_ran: set[str]) -> pipeline.PublishResult:
    res = pipeline.publish(store.connect(db_url), ranked, run_id, config.review, complete, detectors_ran)
    get_run_logger().info("publish: %d new, %d updated, %d reopened, %d resolved by data", res.new, res.updated,
                          res.reopened, res.resolved_by_data)
    return res


@task(name="report", **_TASK)
def report_task(db_url: str, summary: RunSummary) -> RunSummary:
    _publish_artifacts(db_url, summary)
    store.record_detectors(store.connect(db_url), summary.run_id, summary.detectors or [])
    store.finish_run(store.connect(db_url), summary.run_id, status=summary.status,
                     counts=[c.__dict__ for c in summary.counts], stages=summary.stages,
                     leads_new=summary.leads_new, leads_updated=summary.leads_updated,
                     leads_reopened=summary.leads_reopened, leads_resolved=summary.leads_resolved,
                     message="；".join(summary.problems) or None, data_docs=summary.data_docs)
    get_run_logger().info("report: run %d %s, %d leads (%d new)", summary.run_id, summary.status,
                          summary.leads_total, summary.leads_new)
    return summary


def _publish_artifacts(db_url: str, s: RunSummary) -> None:
    """A markdown summary and a table of the top leads (IDs and accounts masked) on the flow run's page."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    from sanzi_audit.masking import mask_text

    lines = [f"# 三资夜间运行 #{s.run_id}: {s.status}", "",
             "| 表 | 读取 | 入库 | 隔离 | 入库但有警告 | 未变化（已跳过） | 版式行（不是数据） |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {c.table} | {c.read + c.unchanged} | {c.loaded} | {c.quarantined} | {c.warned} | {c.unchanged} "
              f"| {c.layout} |" for c in s.counts]
    lines += ["", f"疑点线索 {s.leads_total} 条：新增 {s.leads_new}，更新 {s.leads_updated}，重新打开 {s.leads_reopened}，"
                  f"因数据更正关闭 {s.leads_resolved}。", "", "| 检测器 | 状态 | 线索 | 秒 |", "|---|---|---:|---:|"]
    lines += [f"| {r.name} | {r.status} {r.reason or ''} | {r.leads} | {r.seconds:.1f} |" for r in s.detectors]
    lines += ["", "各阶段耗时（秒）: " + ", ".join(f"{k} {v:.1f}" for k, v in s.stages.items())]
    if s.scope:
        lines += ["", f"范围: {s.scope}"]
    lines += [f"- 问题: {p}" for p in s.problems]
    if s.data_docs:
        lines += ["", f"数据校验报告 (Data Docs): {s.data_docs}"]
    create_markdown_artifact(key="sanzi-run-summary", markdown="\n".join(lines),
                             description=f"运行 #{s.run_id} 摘要")
    import sqlalchemy as sa

    from sanzi_audit.registry import detector_titles

    titles = detector_titles()
    L = store.leads
    with store.connect(db_url).connect() as conn:
        top = conn.execute(sa.select(L.c.rank, L.c.detector, L.c.village_code, L.c.score, L.c.amount_at_risk,
                                     L.c.title, L.c.status).where(L.c.rank.is_not(None))
                           .order_by(L.c.rank).limit(20)).all()
    create_table_artifact(key="sanzi-top-leads", description=f"运行 #{s.run_id} 排名前 20 的疑点线索（证件号已遮蔽）",
                          table=[dict(排名=r.rank, 检测器=titles.get(r.detector, r.detector), 村=r.village_code, 分数=round(r.score, 2),
                                      金额=round(r.amount_at_risk or 0, 2), 疑点=mask_text(r.title),
                                      状态=store.STATUS_LABELS.get(r.status, r.status)) for r in top])


@flow(name="sanzi-nightly", log_prints=True)
def nightly(source: str, db: str | None = None, config_path: str | None = None,
            period_start: dt.date | None = None, period_end: dt.date | None = None,
            townships: list[str] | None = None, full: bool = False) -> RunSummary:
    """One county's run: from the exports in ``source`` to ranked leads in the review database.

    Incremental by default: rows an earlier run loaded cleanly (same values, by fingerprint) are skipped and
    counted as unchanged; detection still sees the whole warehouse. ``full`` forgets the fingerprints and
    processes every row (after a change to the expectations or the contract, or to pick up deleted rows).

    The nightly deployment passes only source, db and config. A backfill also passes ``period_start``/
    ``period_end`` (rows dated outside are quarantined as out of period) and an on-demand run ``townships``
    (9-digit township or 12-digit village codes). Ledger lines and payments outside the period, and rows of
    other villages, are skipped and counted (not quarantined). Such limited runs never mark leads as resolved
    by data, since they did not look at everything; re-running one gives the same warehouse and leads.
    """
    db_url = store.resolve_url(db or None)
    config = load_config(config_path or None)  # fail fast on a bad config or source, before a run row exists
    if period_start or period_end:
        v = config.validation.model_copy(update={k: x for k, x in (("period_start", period_start),
                                                                     ("period_end", period_end)) if x})
        config = config.model_copy(update={"validation": v})
    townships = [str(t).strip() for t in (townships or []) if str(t).strip()]
    bad = [t for t in townships if not (t.isdigit() and len(t) in (9, 12))]
    if bad:
        raise ValueError(f"townships 应为 9 位乡镇代码或 12 位村代码: {', '.join(bad)}")
    check_source(source)
    engine = store.connect(db_url)
    store.acquire_run_lock(engine, f"{source}")  # two runs never write one database at once
    try:
        return _run(source, db_url, config, engine, townships, limited=bool(period_start or period_end), full=full)
    finally:
        store.release_run_lock(engine)
        pipeline.release_memory()  # the next run in this process (a province worker's next county) starts clean


def _run(source: str, db_url: str, config: Config, engine, townships: list[str], limited: bool,
         full: bool = False) -> RunSummary:
    params = pipeline.parameters_of(config, str(source))
    params["townships"] = townships
    run_id = store.start_run(engine, str(source), params)
    summary = RunSummary(run_id=run_id, status="running", db_url=db_url)
    if townships:
        summary.scope = f"仅 {', '.join(townships)}"
    if limited:
        start, end = config.validation.period(dt.date.today())
        summary.scope = "；".join(x for x in (summary.scope, f"期间 {start} 至 {end}") if x)
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        summary.stages[stage] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    try:
        # Prefect keeps every task's parameters and result until the flow ends, so big inputs are emptied in place
        # (drop_rows, release) once used: at 1,000 villages the raw extract alone is 1.7 GB.
        raw = extract_task(str(source), config)
        filled = pipeline.filled_columns(raw)  # of the whole source, before rows seen before are skipped
        ex = raw
        if townships or limited:
            ex = ex.restrict(townships, config.validation.period_start, config.validation.period_end)
            summary.skipped = ex.skipped
        if full:
            store.forget_rows(engine)
        # a limited run re-processes its whole range (idempotently); a nightly run only what is new or changed
        ex, fp = pipeline.skip_unchanged(engine, ex, use_known=not (full or townships or limited))
        raw.drop_rows()
        summary.unchanged = {k: v for k, v in fp.unchanged.items() if v}
        lap("extract")
        docs = store.data_docs_dir(db_url, run_id)
        validated = validate_task(ex, config, str(docs) if docs else None)
        ex.drop_rows()  # the raw strings are not needed past validation: free them before detection
        pipeline.release_memory()
        summary.data_docs = str(validated.data_docs) if validated.data_docs else None
        places_task(db_url, validated, config)
        lap("validate")
        # history first, then the load runs alongside detection (tonight's rows are in memory)
        data = history_task(db_url, validated, run_id, config)
        loading = load_task.submit(db_url, validated, run_id, fp)
        leads, reports = detect_task(data, config)
        lap("detect")
        loaded, summary.stages["load"] = loading.result()
        summary.load_process_rss_mb = loaded.process_peak_mb
        lap("load_wait")
        pipeline.save_snapshot(engine, db_url, data)
        data.release()
        pipeline.release_memory()
        ranked = rank_task(db_url, leads, config)
        lap("rank")
        # a partial night (a file refused, a detector failed, a column gone) must not resolve leads by data
        lost = [] if (townships or limited) else pipeline.lost_columns(engine, filled)
        complete = (not ex.problems and not lost and not validated.problems and not townships and not limited
                    and all(r.status in ("ran", "disabled") for r in reports))
        ran = {r.name for r in reports if r.status == "ran"}
        published = publish_task(db_url, ranked, run_id, config, complete, ran)
        summary.leads_new, summary.leads_updated = published.new, published.updated
        summary.leads_reopened, summary.leads_resolved = published.reopened, published.resolved_by_data
        lap("publish")
    except BaseException as exc:
        store.finish_run(engine, run_id, status="failed", stages=summary.stages,
                         message=f"{exc.__class__.__name__}: {exc}")
        raise
    summary.counts = pipeline.counts_of(validated)
    pipeline.layout_of(summary.counts, ex.files)
    for c in summary.counts:
        c.unchanged = fp.unchanged.get(c.table, 0)
        c.columns = filled.get(c.table, [])
    summary.quarantine_examples = pipeline.quarantine_examples(validated)
    summary.feedback = review.confirmed_share(engine)
    summary.problems = [p.message for p in ex.problems] + lost + validated.problems + [
        f"检测器 {r.name} 运行失败: {r.reason}" for r in reports if r.status == "failed"]
    summary.absent = ex.absent
    summary.detectors = reports
    summary.leads_total = len(ranked)  # type: ignore[arg-type]  # a sync task's result, not a coroutine
    summary.status = "partial" if summary.problems else "success"
    return report_task(db_url, summary)


if __name__ == "__main__":
    import sys

    nightly(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
