"""The nightly flow: extract → (restrict) → unchanged → validate → places → history → load ∥ detect → snapshot →
carry → rank → publish → report.

Each stage is a task that logs its counts and hands the next one a workspace handle (sanzi_audit.workspace): the
run's folder holds each stage's output as Arrow files, so no DataFrame outlives its task. The flow only wires the
tasks and keeps the run's book (the ``runs`` row): a crash marks the run failed, keeps the workspace for the
engineer on call, and leaves the previous night's leads as they were.
Runs without a Prefect server (a temporary one starts) and under a server (prefect.yaml).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from sanzi_audit import pipeline, review, store
from sanzi_audit.config import Config, load_config
from sanzi_audit.detectors.base import Lead
from sanzi_audit.pipeline import RunSummary
from sanzi_audit.registry import DetectorReport
from sanzi_audit.sources import Extract, check_source, extract
from sanzi_audit.workspace import Handle, Workspace

# Tasks hand each other workspace handles (sanzi_audit.workspace), not DataFrames: no input hashing, no result
# persistence, and the big frames live only inside the task that uses them.
_TASK: dict[str, Any] = dict(cache_policy=NO_CACHE, persist_result=False)


def _shell(ex: Extract) -> Extract:
    """The extract without its rows: what the report needs (files, problems, absent tables, skipped rows)."""
    return Extract(problems=list(ex.problems), absent=list(ex.absent), skipped=dict(ex.skipped), files=list(ex.files))


@task(name="extract", retries=2, retry_delay_seconds=10, **_TASK)
def extract_task(source: str, config: Config, ws: Workspace) -> tuple[Handle, Extract]:
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
    return ws.put("extract", ex), _shell(ex)


@task(name="columns", **_TASK)
def columns_task(raw: Handle) -> dict[str, list[str]]:
    """The contract columns the whole source fills, before rows seen before are skipped (pipeline.lost_columns)."""
    return pipeline.filled_columns(raw.get())


@task(name="restrict", **_TASK)
def restrict_task(raw: Handle, townships: list[str], config: Config, ws: Workspace) -> tuple[Handle, dict[str, int]]:
    """A township- or period-limited run keeps its rows; the others are counted as skipped, not quarantined."""
    ex = raw.get().restrict(townships, config.validation.period_start, config.validation.period_end)
    get_run_logger().info("restrict: rows outside the run's scope %s", ex.skipped)
    return ws.put("restricted", ex), dict(ex.skipped)


@task(name="forget", **_TASK)
def forget_task(db_url: str) -> None:
    """A --full night forgets which rows earlier nights loaded, so every row is processed again."""
    store.forget_rows(store.connect(db_url))


@task(name="unchanged", **_TASK)
def unchanged_task(db_url: str, raw: Handle, use_known: bool, ws: Workspace) -> tuple[Handle, Handle, dict[str, int]]:
    """Set aside the rows an earlier night loaded cleanly (same values, by fingerprint)."""
    ex, fp = pipeline.skip_unchanged(store.connect(db_url), raw.get(), use_known=use_known)
    skipped = {k: v for k, v in fp.unchanged.items() if v}
    get_run_logger().info("unchanged: %s", ", ".join(f"{k} {v}" for k, v in skipped.items()) or "-")
    # nothing set aside (a first or --full night): the extract's own files are tonight's rows, not written twice
    todo = ws.put("new_rows", ex) if skipped else raw
    return todo, ws.put("fingerprints", fp), skipped


@dataclass
class Validation:
    """What the report needs of the validation, without the rows."""

    counts: list[pipeline.TableCount]
    problems: list[str]
    data_docs: str | None
    quarantine_examples: list[str]


@task(name="validate", **_TASK)
def validate_task(todo: Handle, config: Config, docs_dir: str | None, ws: Workspace) -> tuple[Handle, Validation]:
    validated = pipeline.validate_all(todo.get(), config, docs_dir)
    log = get_run_logger()
    counts = pipeline.counts_of(validated)
    for c in counts:
        log.info("validate %s: read %d = loaded %d + quarantined %d (%d loaded with warnings)", c.table, c.read,
                 c.loaded, c.quarantined, c.warned)
    if validated.data_docs:
        log.info("validate: Data Docs at %s", validated.data_docs)
    info = Validation(counts, list(validated.problems), str(validated.data_docs) if validated.data_docs else None,
                      pipeline.quarantine_examples(validated))
    return ws.put("validated", validated), info


@task(name="places", **_TASK)
def places_task(db_url: str, validated: Handle, config: Config) -> int:
    """Village and township names for the review pages (from the directory, else the books)."""
    names = pipeline.places_of(validated.get(), config)
    store.record_places(store.connect(db_url), names)
    get_run_logger().info("places: %d names", len(names))
    return len(names)


@task(name="load", **_TASK)
def load_task(db_url: str, validated: Handle, run_id: int, fp: Handle) -> tuple[pipeline.Loaded, float]:
    t0 = time.perf_counter()
    v = validated.get()
    loaded = pipeline.load_alongside(db_url, v, run_id)
    remembered = pipeline.remember_loaded(store.connect(db_url), v, fp.get(), run_id)
    get_run_logger().info("load: %s; %d row fingerprints remembered",
                          ", ".join(f"{k} {v}" for k, v in loaded.rows.items()), remembered)
    return loaded, round(time.perf_counter() - t0, 3)


@task(name="history", **_TASK)
def history_task(db_url: str, validated: Handle, run_id: int, config: Config, ws: Workspace) -> Handle:
    """Tonight's rows plus the history they do not replace, read before tonight's load touches the warehouse."""
    data = pipeline.detector_input(store.connect(db_url), validated.get(), run_id, config, url=db_url)
    return ws.put("detector_input", data)


@task(name="detect", **_TASK)
def detect_task(db_url: str, data: Handle, config: Config, carry: str,
                ws: Workspace) -> tuple[list[Lead], list[DetectorReport], Handle | None]:
    """The detectors; with carry="reuse", those whose input is as on the last night carry their leads over."""
    leads, reports, entries = pipeline.detect_carrying(data.get(), config, store.connect(db_url), carry)
    log = get_run_logger()
    for r in reports:
        log.info("detect %s: %s, %d leads, %.1f s%s %s", r.name, r.status, r.leads, r.seconds, r.how, r.reason)
    return leads, reports, ws.put("carry", entries) if entries is not None else None


@task(name="carry", **_TASK)
def carry_task(db_url: str, entries: Handle, run_id: int) -> None:
    """After tonight's load: store each detector's leads and input key for the next night (carry.py)."""
    from sanzi_audit import carry

    carry.save(store.connect(db_url), entries.get(), run_id)


@task(name="snapshot", **_TASK)
def snapshot_task(db_url: str, data: Handle) -> None:
    """After tonight's load: the warehouse as it now stands, for the next night's history."""
    pipeline.save_snapshot(store.connect(db_url), db_url, data.get())


@task(name="rank", **_TASK)
def rank_task(db_url: str, leads: list[Lead], config: Config) -> pd.DataFrame:
    ranked = pipeline.rank(leads, config, store.connect(db_url))
    get_run_logger().info("rank: %d leads in %d cases", len(ranked), ranked["case_id"].nunique() if len(ranked) else 0)
    return ranked


@task(name="lost_columns", **_TASK)
def lost_columns_task(db_url: str, filled: dict[str, list[str]]) -> list[str]:
    """Columns earlier nights filled and tonight's source leaves empty: the night cannot judge what they fed."""
    return pipeline.lost_columns(store.connect(db_url), filled)


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
    lines += [f"| {r.name} | {r.status}{r.how} {r.reason or ''} | "
              f"{r.leads} | {r.seconds:.1f} |" for r in s.detectors]
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
    ws = Workspace.create(f"run-{run_id:05d}")
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        summary.stages[stage] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    try:
        raw, ex = extract_task(str(source), config, ws)
        filled = columns_task(raw)  # of the whole source, before rows seen before are skipped
        if townships or limited:
            raw, summary.skipped = restrict_task(raw, townships, config, ws)
        if full:
            forget_task(db_url)
        # a limited run re-processes its whole range (idempotently); a nightly run only what is new or changed
        todo, fp, summary.unchanged = unchanged_task(db_url, raw, not (full or townships or limited), ws)
        lap("extract")
        docs = store.data_docs_dir(db_url, run_id)
        validated, checked = validate_task(todo, config, str(docs) if docs else None, ws)
        places_task(db_url, validated, config)
        summary.data_docs = checked.data_docs
        lap("validate")
        # history first, then the load runs alongside detection
        data = history_task(db_url, validated, run_id, config, ws)
        loading = load_task.submit(db_url, validated, run_id, fp)
        carry = "off" if (townships or limited) else "store" if full else "reuse"
        leads, reports, carried = detect_task(db_url, data, config, carry, ws)
        lap("detect")
        loaded, summary.stages["load"] = loading.result()
        summary.load_process_rss_mb = loaded.process_peak_mb
        lap("load_wait")
        # the snapshot (Parquet writes, outside the GIL) is written while ranking and publishing go on
        snapshot = snapshot_task.submit(db_url, data)
        if carried is not None:
            carry_task(db_url, carried, run_id)
        ranked = rank_task(db_url, leads, config)
        lap("rank")
        # a partial night (a file refused, a detector failed, a column gone) must not resolve leads by data
        lost = [] if (townships or limited) else lost_columns_task(db_url, filled)
        complete = (not ex.problems and not lost and not checked.problems and not townships and not limited
                    and all(r.status in ("ran", "disabled") for r in reports))
        ran = {r.name for r in reports if r.status == "ran"}
        published = publish_task(db_url, ranked, run_id, config, complete, ran)
        summary.leads_new, summary.leads_updated = published.new, published.updated
        summary.leads_reopened, summary.leads_resolved = published.reopened, published.resolved_by_data
        lap("publish")
        snapshot.result()
        lap("snapshot_wait")
    except BaseException as exc:
        # a failed night keeps its workspace, so the engineer on call can open each stage's output
        store.finish_run(engine, run_id, status="failed", stages=summary.stages,
                         message=f"{exc.__class__.__name__}: {exc}（各阶段中间结果保留在 {ws.root}）")
        raise
    summary.counts = checked.counts
    pipeline.layout_of(summary.counts, ex.files)
    for c in summary.counts:
        c.unchanged = summary.unchanged.get(c.table, 0)
        c.columns = filled.get(c.table, [])
    summary.quarantine_examples = checked.quarantine_examples
    summary.feedback = review.confirmed_share(engine)
    summary.problems = [p.message for p in ex.problems] + lost + checked.problems + [
        f"检测器 {r.name} 运行失败: {r.reason}" for r in reports if r.status == "failed"]
    summary.absent = ex.absent
    summary.detectors = reports
    summary.leads_total = len(ranked)  # type: ignore[arg-type]  # a sync task's result, not a coroutine
    summary.status = "partial" if summary.problems else "success"
    out = report_task(db_url, summary)
    ws.remove()
    return out


if __name__ == "__main__":
    import sys

    nightly(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
