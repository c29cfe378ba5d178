"""The province flow: the county flow mapped over counties on a Dask cluster, then a cross-county step.

    sanzi province --config province.yaml

Each county runs as its own nested ``sanzi-nightly`` flow run inside one Dask worker, so a worker's memory is
bounded by the largest county; no step holds two counties' rows. A failed county does not stop the others: the
province run ends ``partial`` and says which county failed and why. The cross-county step reads the county
warehouses (claims one ID partition at a time) and publishes its leads to the province's own review database,
with copies of the few records behind them.

The task runner is a ``DaskTaskRunner`` against ``cluster.address`` from province.yaml (a running dask scheduler)
or, when empty, a LocalCluster of ``cluster.n_workers`` processes. Workers must reach the same Prefect API as
the flow: the flow exports PREFECT_API_URL before the cluster starts (see docs/province.md).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from sanzi_audit import compat, pipeline, store
from sanzi_audit.config import load_config
from sanzi_audit.province import (
    County,
    Province,
    copy_evidence,
    cross_county_claims,
    cross_township_splits,
    load_province,
)

_TASK: dict[str, Any] = dict(cache_policy=NO_CACHE, persist_result=False)


@dataclass
class CountyResult:
    name: str
    status: str  # success / partial / failed
    seconds: float
    peak_rss_mb: float = 0.0
    leads: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)
    message: str = ""


@task(name="county", **_TASK)
def county_task(county: County) -> CountyResult:
    """One county's nightly run (a nested flow run), isolated: its failure is reported, not raised."""
    from sanzi_audit.flows.nightly import nightly

    t0 = time.perf_counter()
    log = get_run_logger()
    try:
        s = nightly(county.source, county.db, county.config)
    except Exception as exc:  # one county's bad night must not sink the province
        log.error("county %s failed: %s: %s", county.name, exc.__class__.__name__, exc)
        return CountyResult(county.name, "failed", round(time.perf_counter() - t0, 2), pipeline.peak_rss_mb(),
                            message=f"{exc.__class__.__name__}: {exc}")
    return CountyResult(county.name, s.status, round(time.perf_counter() - t0, 2),
                        max(pipeline.peak_rss_mb(), s.load_process_rss_mb), s.leads_total,
                        {c.table: c.read for c in s.counts}, dict(s.stages),
                        "；".join(s.problems[:3]))


@task(name="cross-county", **_TASK)
def cross_county_task(prov: Province, done: list[str]) -> dict:
    counties = [c for c in prov.counties if c.name in done]
    t0 = time.perf_counter()
    leads = cross_county_claims(counties) + cross_township_splits(counties, prov.cross_county)
    engine = store.connect(prov.db)
    run_id = store.start_run(engine, f"province:{prov.name}", {"counties": [c.name for c in counties]})
    try:
        copied = copy_evidence(counties, leads, engine, run_id)
        config = load_config()
        ranked = pipeline.rank(leads, config, engine)
        # a province run that lost a county did not look everywhere: nothing is resolved by absence then
        complete = len(counties) == len(prov.counties)
        pub = pipeline.publish(engine, ranked, run_id, complete=complete,
                               detectors_ran={"cross_county_claims", "cross_township_splits"})
    except BaseException as exc:
        store.finish_run(engine, run_id, status="failed", message=f"{exc.__class__.__name__}: {exc}")
        raise
    seconds = round(time.perf_counter() - t0, 2)
    store.finish_run(engine, run_id, status="success" if complete else "partial", stages={"cross_county": seconds},
                     leads_new=pub.new, leads_updated=pub.updated, leads_reopened=pub.reopened,
                     leads_resolved=pub.resolved_by_data)
    get_run_logger().info("cross-county: %d leads (%d new), %d evidence records copied, %.1f s",
                          len(ranked), pub.new, copied, seconds)
    by: dict[str, int] = {}
    for ld in leads:
        by[ld.detector] = by.get(ld.detector, 0) + 1
    return dict(leads=len(ranked), new=pub.new, by_detector=by, seconds=seconds, run_id=run_id)


@flow(name="sanzi-province", log_prints=True)
def province(config_path: str) -> dict:
    """Run every county of province.yaml in parallel, then the cross-county step; returns the province summary."""
    prov = load_province(config_path)
    t0 = time.perf_counter()
    futures = county_task.map(prov.counties)
    results = [f.result() for f in futures]
    done = [r.name for r in results if r.status != "failed"]
    cross = cross_county_task(prov, done) if done else {}
    wall = round(time.perf_counter() - t0, 2)
    summary = dict(province=prov.name, wall_seconds=wall, counties=[asdict(r) for r in results], cross_county=cross,
                   status="success" if len(done) == len(results) else ("partial" if done else "failed"))
    _artifact(summary)
    return summary


def _artifact(s: dict) -> None:
    lines = [f"# 省级运行：{s['province']}（{s['status']}）", "", f"总耗时 {s['wall_seconds']} 秒", "",
             "| 县 | 状态 | 读取行数 | 线索 | 秒 | 峰值内存 MB | 说明 |", "|---|---|---:|---:|---:|---:|---|"]
    for c in s["counties"]:
        lines.append(f"| {c['name']} | {c['status']} | {sum(c['rows'].values()):,} | {c['leads']} | {c['seconds']} | "
                     f"{c['peak_rss_mb']:,.0f} | {c['message']} |")
    cc = s.get("cross_county") or {}
    if cc:
        lines += ["", f"跨县疑点 {cc['leads']} 条（新增 {cc['new']}）：" +
                  "，".join(f"{k} {v}" for k, v in sorted(cc["by_detector"].items()))]
    try:
        create_markdown_artifact("\n".join(lines), key="sanzi-province-summary", description="省级运行摘要")
    except Exception:  # no API (a bare call in a test): the summary is still returned
        pass


def run_province(config_path: str) -> dict:
    """Run the province flow with the task runner province.yaml asks for (LocalCluster or a scheduler address)."""
    from prefect.settings import PREFECT_API_URL
    from prefect_dask import DaskTaskRunner

    prov = load_province(config_path)
    api = PREFECT_API_URL.value()
    server = None
    if not api:  # no server configured: one temporary server for the flow and every Dask worker
        server = compat.prefect_subprocess_server()
        server.start(timeout=int(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")))
        api = server.api_url
    # Dask worker processes read it from the environment; without it each would start its own server
    os.environ["PREFECT_API_URL"] = api
    # a comm closing while the cluster shuts down is logged by distributed at INFO with its traceback: noise that
    # reads like a crash at the end of a good run
    logging.getLogger("distributed.batched").setLevel(logging.WARNING)
    if prov.cluster.address:
        runner = DaskTaskRunner(address=prov.cluster.address)
    else:
        runner = DaskTaskRunner(cluster_kwargs=dict(
            n_workers=prov.cluster.n_workers, threads_per_worker=prov.cluster.threads_per_worker, processes=True,
            memory_limit=prov.cluster.memory_limit, dashboard_address=None))
    try:
        from prefect.settings import temporary_settings

        with temporary_settings({PREFECT_API_URL: api}):
            # prefect-dask's DaskTaskRunner is a TaskRunner; prefect's stubs expect its own generic one
            return province.with_options(task_runner=runner)(config_path)  # type: ignore[arg-type]
    finally:
        if server is not None:
            compat.prefect_drain_logs(timeout=10)  # the run's last log lines reach the server before it stops
            server.stop()


@flow(name="sanzi-province-nightly")
def province_nightly(config_path: str) -> dict:
    """Deployment entrypoint (prefect.yaml ``province``): the province flow on the Dask cluster that
    province.yaml names, as a nested flow run."""
    return run_province(config_path)


