"""Benchmark: time each stage of the nightly pipeline at given county sizes and print a table.

    .venv/bin/python bench/bench.py --villages 30 300 [--keep DIR] [--write bench/results.md]

Each size runs in its own process (so peak RSS is that size's), on a fresh SQLite database, calling the stage
functions directly (Prefect's own overhead is measured separately by the deployment benchmark). Detection quality
on the synthetic truth is printed beside the timings, since a fast wrong detector is worth nothing.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(villages: int, seed: int, workdir: Path) -> dict:
    import pandas as pd

    from sanzi_audit import pipeline, store
    from sanzi_audit.config import load_config
    from sanzi_audit.evaluate import evaluate
    from sanzi_audit.sources import extract
    from sanzi_audit.synth import SynthOptions, generate, write

    cfg = load_config()
    src = workdir / f"county-{villages}"
    db = f"sqlite:///{workdir / f'bench-{villages}.db'}"
    Path(db.removeprefix("sqlite:///")).unlink(missing_ok=True)
    stages = []

    def stage(name, rows, t0):
        stages.append(dict(stage=name, rows=int(rows), seconds=round(time.perf_counter() - t0, 2),
                           peak_rss_mb=round(rss_mb())))

    t = time.perf_counter()
    res = generate(SynthOptions(villages=villages, seed=seed), cfg)
    write(res, src)
    rows_by_table = {k: len(v) for k, v in res.tables.items()}
    total_rows = sum(rows_by_table.values())
    stage("synth (not nightly)", total_rows, t)
    del res

    engine = store.connect(db)
    run_id = store.start_run(engine, str(src), {})
    t = time.perf_counter()
    ex = extract(src)
    stage("extract", sum(r.rows_read for r in ex.tables.values()), t)
    t = time.perf_counter()
    validated = pipeline.validate_all(ex)
    stage("validate", sum(v.rows_read for v in validated.values()), t)
    del ex
    t = time.perf_counter()
    pipeline.load(engine, validated, run_id)
    stage("load", sum(v.rows_loaded for v in validated.values()), t)
    t = time.perf_counter()
    data = pipeline.detector_input(engine, validated, run_id, cfg, url=db)
    leads, reports = pipeline.detect(data, cfg)
    stage("detect", len(data["ledger"]), t)
    del data, validated
    t = time.perf_counter()
    ranked = pipeline.rank(leads, cfg)
    stage("rank", len(ranked), t)
    t = time.perf_counter()
    pipeline.publish(engine, ranked, run_id)
    stage("publish", len(ranked), t)

    truth = pd.read_csv(src / "truth.csv", dtype=str)
    report = evaluate(engine, truth, [50, 100, 200], baseline=False)
    return dict(villages=villages, rows=rows_by_table, stages=stages,
                detectors=[dict(name=r.name, status=r.status, leads=r.leads, seconds=round(r.seconds, 2))
                           for r in reports],
                recall={t.fraud_type: [t.injected, t.found] for t in report.types},
                precision={str(k): round(v, 3) for k, v in report.precision_at.items()}, leads=report.leads)


def render(results: list[dict]) -> str:
    out = [f"Machine: {platform.machine()}, {platform.python_version()}, "
           f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores\n"]
    out.append("| villages | stage | rows | seconds | rows/s | peak RSS MB |")
    out.append("|---:|---|---:|---:|---:|---:|")
    for r in results:
        nightly = 0.0
        for s in r["stages"]:
            rate = f"{s['rows'] / s['seconds']:,.0f}" if s["seconds"] > 0 else "-"
            out.append(f"| {r['villages']} | {s['stage']} | {s['rows']:,} | {s['seconds']} | {rate} | {s['peak_rss_mb']:,} |")
            if not s["stage"].startswith("synth"):
                nightly += s["seconds"]
        out.append(f"| {r['villages']} | **nightly total** | | **{nightly:.1f}** | | |")
    out.append("\n| villages | ledger rows | detector | leads | seconds |")
    out.append("|---:|---:|---|---:|---:|")
    for r in results:
        for d in r["detectors"]:
            out.append(f"| {r['villages']} | {r['rows']['ledger']:,} | {d['name']} | {d['leads']} | {d['seconds']} |")
    out.append("\n| villages | fraud type | injected | found | recall |")
    out.append("|---:|---|---:|---:|---:|")
    for r in results:
        for ft, (inj, found) in r["recall"].items():
            out.append(f"| {r['villages']} | {ft} | {inj} | {found} | {found / inj:.2f} |")
    out.append("\n| villages | leads | precision@50 | precision@100 | precision@200 |")
    out.append("|---:|---:|---:|---:|---:|")
    for r in results:
        p = r["precision"]
        out.append(f"| {r['villages']} | {r['leads']} | {p['50']} | {p['100']} | {p['200']} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--villages", type=int, nargs="+", default=[30, 300])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", help="work folder to keep (default: a temporary one)")
    ap.add_argument("--write", help="also write the table to this markdown file")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="sanzi-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if a.one:
        print(json.dumps(one(a.one, a.seed, work), ensure_ascii=False))
        return
    results = []
    for n in a.villages:
        print(f"… {n} villages", file=sys.stderr)
        proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--seed", str(a.seed), "--keep", str(work)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            raise SystemExit(proc.returncode)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    table = render(results)
    print(table)
    if a.write:
        Path(a.write).write_text(f"# Benchmark results\n\n`bench/bench.py --villages {' '.join(map(str, a.villages))}`, "
                                 f"{time.strftime('%Y-%m-%d')}\n\n{table}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
