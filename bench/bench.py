"""Benchmark: seconds per stage, rows/s and peak RSS by county size, the Prefect overhead, and a province.

    .venv/bin/python bench/bench.py --villages 30 300 1000 --province 3 --keep /tmp/bench --write bench/results.md

For each size, in separate processes (so peak RSS is that size's):
1. the stages called directly, as the flow calls them (load in its own process alongside detection), on a fresh
   SQLite database; detection quality on the synthetic truth is printed beside the timings;
2. the real ``sanzi-nightly`` flow against a running Prefect server (started once here, like production): a first
   full night and a second, incremental night. Prefect overhead = flow wall time − the stages' own seconds;
3. with ``--province K``: K counties of ``--province-villages`` villages through the province flow on a Dask
   LocalCluster (2 workers) and the cross-county step.
Results go to bench/results.md (tables), bench/results.json (numbers) and bench/scaling.png (the curves).
A synthetic county is reused from --keep when its folder exists (synth takes minutes at 1,000 villages).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def rss_mb() -> float:
    from sanzi_audit import pipeline

    return pipeline.peak_rss_mb()


WHOLE = os.environ.get("SANZI_BENCH_WHOLE") == "1"  # --whole-county, handed to the child processes


def county(villages: int, seed: int, work: Path) -> tuple[Path, float | None]:
    from sanzi_audit.config import load_config
    from sanzi_audit.synth import SynthOptions, generate, write

    src = work / f"county-{villages}{'-whole' if WHOLE else ''}"
    if (src / "_truth" / "truth.csv").exists():
        return src, None
    t = time.perf_counter()
    write(generate(SynthOptions(villages=villages, seed=seed, bank=WHOLE, registers=WHOLE), load_config()), src)
    return src, round(time.perf_counter() - t, 1)


def stages(villages: int, seed: int, work: Path) -> dict:
    import pandas as pd

    from sanzi_audit import pipeline, store
    from sanzi_audit.config import load_config
    from sanzi_audit.evaluate import evaluate
    from sanzi_audit.sources import extract

    src, synth_s = county(villages, seed, work)
    cfg = load_config()
    db_file = work / f"bench-{villages}.db"
    for f in work.glob(f"bench-{villages}.db*"):
        if f.is_file():
            f.unlink()
    db = f"sqlite:///{db_file}"
    engine = store.connect(db)
    run_id = store.start_run(engine, str(src), {})
    out = []

    load_peak = [0.0]  # the background load process's own peak (VmHWM), once it has run

    def stage(name, rows, t0):
        out.append(dict(stage=name, rows=int(rows), seconds=round(time.perf_counter() - t0, 2),
                        peak_rss_mb=round(rss_mb()), load_process_rss_mb=round(load_peak[0])))

    t = time.perf_counter()
    ex = extract(src)
    ex, fp = pipeline.skip_unchanged(engine, ex)
    rows = {k: r.rows_read for k, r in ex.tables.items()}
    stage("extract", sum(rows.values()), t)
    t = time.perf_counter()
    validated = pipeline.validate_all(ex, cfg)
    stage("validate", sum(v.rows_read for v in validated.values()), t)
    del ex
    t = time.perf_counter()
    data = pipeline.detector_input(engine, validated, run_id, cfg, url=db)
    leads, reports = pipeline.detect(data, cfg)
    stage("detect", len(data["ledger"]), t)
    t = time.perf_counter()
    load_peak[0] = pipeline.load_alongside(db, validated, run_id).process_peak_mb  # alongside detect in the flow
    pipeline.remember_loaded(engine, validated, fp, run_id)
    pipeline.save_snapshot(engine, db, data)
    stage("load (alongside detect in the flow)", sum(v.rows_loaded for v in validated.values()), t)
    del data, validated
    t = time.perf_counter()
    ranked = pipeline.rank(leads, cfg)
    pipeline.publish(engine, ranked, run_id)
    stage("rank + publish", len(ranked), t)
    truth = pd.read_csv(src / "_truth" / "truth.csv", dtype=str)
    report = evaluate(engine, truth, [50, 100, 200], baseline=False)
    return dict(villages=villages, rows=rows, synth_seconds=synth_s, stages=out,
                detectors=[dict(name=r.name, status=r.status, leads=r.leads, seconds=round(r.seconds, 2))
                           for r in reports],
                recall={t.fraud_type: [t.injected, t.found] for t in report.types},
                precision={str(k): round(v, 3) for k, v in report.precision_at.items()}, leads=report.leads)


def _floor(python: str, villages: int, work: Path) -> dict:
    """The SQL floor on the same county, as its own script prints it (its last lines: the timings)."""
    import subprocess

    src = work / f"county-{villages}{'-whole' if WHOLE else ''}"
    script = HERE.parent.parent / "shared" / "bench" / "duckdb_floor.py"
    t = time.perf_counter()
    out = subprocess.run([python, str(script), str(src), "--truth", str(src / "_truth" / "truth.csv")],
                         capture_output=True, text=True, check=False)
    return dict(villages=villages, wall=round(time.perf_counter() - t, 2), rc=out.returncode,
                output=out.stdout[-3000:] + (out.stderr[-1000:] if out.returncode else ""))


def _posted(src: Path, work: Path, n: int) -> Path:
    """The county as it stands a night later, when ``n`` villages have each posted one more payment voucher (a copy
    of one of theirs under a new number): every other file linked, not copied."""
    import pandas as pd

    out = work / f"{src.name}-posted{n}"
    if (out / "ledger.csv").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_file() and f.name != "ledger.csv" and not (out / f.name).exists():
            os.link(f, out / f.name)
    led = pd.read_csv(src / "ledger.csv", dtype=str, keep_default_na=False)
    villages = sorted(led["village_code"].unique())[:: max(1, led["village_code"].nunique() // n)][:n]
    new = []
    for v in villages:
        mine = led[(led["village_code"] == v) & (led["debit"] != "") & (led["counterparty"] != "")]
        no = mine["voucher_no"].iloc[len(mine) // 2]
        lines = led[(led["village_code"] == v) & (led["voucher_no"] == no)].copy()
        lines["voucher_no"] = no + "7"
        lines["entry_id"] = [x.replace(no, no + "7") for x in lines["entry_id"]]
        new.append(lines)
    pd.concat([led, *new]).to_csv(out / "ledger.csv", index=False, encoding="utf-8")
    return out


def flow(villages: int, seed: int, work: Path) -> dict:
    """Three nights of the real flow against the Prefect server in PREFECT_API_URL: the first on an empty database, the
second on the same exports, the third after a tenth of the villages posted one more voucher each."""
    from sanzi_audit.flows.nightly import nightly

    src, _ = county(villages, seed, work)
    for f in work.glob(f"flow-{villages}.db*"):
        if f.is_file():
            f.unlink()
    db = f"sqlite:///{work / f'flow-{villages}.db'}"
    nights = []
    posted = _posted(src, work, max(1, villages // 10))
    for label, folder in (("first night (full)", src), ("second night (incremental)", src),
                          (f"third night (incremental, {max(1, villages // 10)} villages post a voucher)", posted)):
        t = time.perf_counter()
        s = nightly(str(folder), db)
        wall = time.perf_counter() - t
        own = sum(v for k, v in s.stages.items() if k != "load")  # load overlaps detect; load_wait is on the path
        nights.append(dict(night=label, wall=round(wall, 1), stages=s.stages, stage_sum=round(own, 1),
                           overhead=round(wall - own, 1), leads=s.leads_total, peak_rss_mb=round(rss_mb()),
                           load_process_rss_mb=round(s.load_process_rss_mb)))
    return dict(villages=villages, nights=nights)


def province(counties: int, villages: int, seed: int, work: Path) -> dict:
    import pandas as pd

    from sanzi_audit.flows.province import run_province
    from sanzi_audit.synth.province import write_province

    out = work / f"province-{counties}x{villages}"
    if not (out / "province.yaml").exists():
        write_province(out, counties, villages, seed)
    for f in out.glob("*.db*"):
        if f.is_file():
            f.unlink()
    for d in out.glob("*.db.snapshot"):
        for f in d.iterdir():
            f.unlink()
    t = time.perf_counter()
    s = run_province(str(out / "province.yaml"))
    wall = time.perf_counter() - t
    truth = pd.read_csv(out / "truth.csv", dtype=str)
    import sqlalchemy as sa

    from sanzi_audit import store

    with store.connect(f"sqlite:///{out / 'province.db'}").connect() as c:
        ev = set(r[0] for r in c.execute(sa.text("SELECT record_id FROM lead_evidence")))
    found = truth[truth["record_id"].isin(ev)]["case_id"].nunique()
    county_s = [c["seconds"] for c in s["counties"]]
    cross = (s.get("cross_county") or {}).get("seconds", 0.0)
    return dict(counties=counties, villages=villages, wall=round(wall, 1), county_seconds=county_s,
                county_rss_mb=[c["peak_rss_mb"] for c in s["counties"]],
                rows=[sum(c["rows"].values()) for c in s["counties"]], cross_seconds=cross,
                overhead=round(wall - sum(county_s) / 2 - cross, 1), cross_leads=s["cross_county"].get("leads"),
                cases=truth["case_id"].nunique(), found=found, status=s["status"])


# ---- output ----------------------------------------------------------------------------------------------------

def render(res: dict) -> str:
    out = [f"Machine: {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores, "
           f"{time.strftime('%Y-%m-%d')}\n", "## Stages by county size (stage functions, no Prefect)\n",
           "| villages | stage | rows | seconds | rows/s | peak RSS MB | load process RSS MB |",
           "|---:|---|---:|---:|---:|---:|---:|"]
    for r in res["sizes"]:
        for s in r["stages"]:
            rate = f"{s['rows'] / s['seconds']:,.0f}" if s["seconds"] > 0 else "-"
            out.append(f"| {r['villages']} | {s['stage']} | {s['rows']:,} | {s['seconds']} | {rate} | "
                       f"{s['peak_rss_mb']:,} | {s['load_process_rss_mb']:,} |")
    out += ["", "| villages | " + " | ".join(["ledger", "contracts", "claims", "residents", "officials"]) + " |",
            "|---:|---:|---:|---:|---:|---:|"]
    for r in res["sizes"]:
        out.append(f"| {r['villages']} | " + " | ".join(f"{r['rows'].get(t, 0):,}" for t in
                                                         ("ledger", "contracts", "claims", "residents", "officials")) + " |")
    out += ["", "## The real flow on a running Prefect server\n",
            "| villages | night | wall s | stages s | Prefect overhead s | leads | peak RSS MB | load process RSS MB |",
            "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for f in res["flows"]:
        for n in f["nights"]:
            out.append(f"| {f['villages']} | {n['night']} | {n['wall']} | {n['stage_sum']} | {n['overhead']} | "
                       f"{n['leads']} | {n['peak_rss_mb']:,} | {n['load_process_rss_mb']:,} |")
    out += ["", "Stages of each night (seconds; load runs alongside detect, load_wait is what detection waited; the "
            "snapshot is written alongside rank and publish, snapshot_wait is what was left of it):", ""]
    for f in res["flows"]:
        for n in f["nights"]:
            out.append(f"- {f['villages']} villages, {n['night']}: " +
                       ", ".join(f"{k} {v:.1f}" for k, v in n["stages"].items()))
    if res.get("province"):
        p = res["province"]
        out += ["", "## Province (Dask LocalCluster, 2 workers, then the cross-county step)\n",
                "| counties × villages | wall s | county seconds | county rows | county worker peak RSS MB | "
                "cross-county s | overhead s | cross-county cases found |", "|---|---:|---|---|---|---:|---:|---:|",
                f"| {p['counties']} × {p['villages']} | {p['wall']} | {', '.join(map(str, p['county_seconds']))} | "
                f"{', '.join(f'{x:,}' for x in p['rows'])} | {', '.join(f'{x:,.0f}' for x in p['county_rss_mb'])} | "
                f"{p['cross_seconds']} | {p['overhead']} | {p['found']}/{p['cases']} |",
                "", "Overhead = wall − (sum of county seconds) / 2 workers − cross-county seconds: the cost of the "
                "Dask cluster, the Prefect flow and task runs, and imperfect packing of counties on workers."]
    out += ["", "## Detectors\n", "| villages | detector | leads | seconds |", "|---:|---|---:|---:|"]
    for r in res["sizes"]:
        for d in r["detectors"]:
            out.append(f"| {r['villages']} | {d['name']} | {d['leads']} | {d['seconds']} |")
    out += ["", "## Quality on the synthetic truth\n", "| villages | fraud type | injected | found | recall |",
            "|---:|---|---:|---:|---:|"]
    for r in res["sizes"]:
        for ft, (inj, found) in r["recall"].items():
            out.append(f"| {r['villages']} | {ft} | {inj} | {found} | {found / inj:.2f} |")
    out += ["", "| villages | leads | precision@50 | precision@100 | precision@200 |", "|---:|---:|---:|---:|---:|"]
    for r in res["sizes"]:
        p = r["precision"]
        out.append(f"| {r['villages']} | {r['leads']} | {p['50']} | {p['100']} | {p['200']} |")
    for f in res.get("floor", []):
        out += ["", f"## SQL floor beside it (../shared/bench/duckdb_floor.py, {f['villages']} villages, wall "
                    f"{f['wall']} s)\n", "```", f["output"].strip(), "```"]
        out += ratios(res, f)
    return "\n".join(out)


TEN_RULES = ("split_contracts", "duplicate_payments", "shared_accounts", "related_party_payees", "claims_after_exit",
             "claims_nonresident", "claims_duplicate", "claims_area", "voucher_gaps", "benford")
# issue 17's targets on this 2-core machine at 300 villages (seconds of stage time, MB)
TARGETS = {"full": 20.0, "incremental": 10.0, "ten_rules_ratio": 2.0, "peak_rss_mb": 1500.0}


def _floor_seconds(output: str) -> tuple[float | None, float | None]:
    """(all rules, total) from duckdb_floor.py's timing lines."""
    import re

    rules = re.search(r"\(b\) all rules\s+([\d.]+)", output)
    total = re.search(r"\(c\) total\s+([\d.]+)", output)
    return (float(rules.group(1)) if rules else None, float(total.group(1)) if total else None)


def ratios(res: dict, floor: dict) -> list[str]:
    """The nights and the ten rules as multiples of the SQL floor on the same county, beside the targets."""
    rules_s, total_s = _floor_seconds(floor["output"])
    if not rules_s or not total_s:
        return []
    n = floor["villages"]
    out = ["", f"## Against the floor and the targets ({n} villages)\n",
           "| measure | ours | floor | ratio | target |", "|---|---:|---:|---:|---:|"]
    for f in res["flows"]:
        if f["villages"] != n:
            continue
        for night in f["nights"]:
            kind = "full" if "full" in night["night"] else "incremental"
            out.append(f"| {night['night']}: stage seconds | {night['stage_sum']} | {total_s} | "
                       f"{night['stage_sum'] / total_s:.1f}× | ≤ {TARGETS[kind]:g} s |")
        peak = max(x["peak_rss_mb"] for x in f["nights"])
        out.append(f"| flow peak RSS MB | {peak:,} | - | - | ≤ {TARGETS['peak_rss_mb']:,.0f} |")
    for r in res["sizes"]:
        if r["villages"] != n:
            continue
        ten = sum(d["seconds"] for d in r["detectors"] if d["name"] in TEN_RULES)
        out.append(f"| the ten rules' detectors (stage functions) | {ten:.2f} | {rules_s} | {ten / rules_s:.1f}× | "
                   f"≤ {TARGETS['ten_rules_ratio']:g}× |")
    return out


def plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["villages"] for r in res["sizes"]]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    names = [s["stage"] for s in res["sizes"][0]["stages"]]
    for name in names:
        a.plot(sizes, [next(s["seconds"] for s in r["stages"] if s["stage"] == name) for r in res["sizes"]],
               marker="o", label=name.split(" (")[0])
    flows = {f["villages"]: f for f in res.get("flows", [])}
    if flows:
        xs = [v for v in sizes if v in flows]
        a.plot(xs, [flows[v]["nights"][0]["wall"] for v in xs], "k--", marker="s", label="flow wall, full night")
        a.plot(xs, [flows[v]["nights"][1]["wall"] for v in xs], "k:", marker="^", label="flow wall, incremental")
    top = max(sizes)
    a.plot([0, top], [0, max(flows[top]["nights"][0]["wall"] if top in flows else 0, 1)], color="grey", lw=0.6,
           label="linear from 0 (reference)")
    a.set_xlabel("villages")
    a.set_ylabel("seconds")
    a.set_title("Time by stage")
    a.legend(fontsize=7)
    b.plot(sizes, [max(s["peak_rss_mb"] for s in r["stages"]) for r in res["sizes"]], marker="o", label="pipeline")
    b.plot(sizes, [max(s["load_process_rss_mb"] for s in r["stages"]) for r in res["sizes"]], marker="o",
           label="load process")
    if flows:
        xs = [v for v in sizes if v in flows]
        b.plot(xs, [flows[v]["nights"][0]["peak_rss_mb"] for v in xs], "k--", marker="s", label="flow process")
    b.axhline(6144, color="red", lw=0.8, ls="--", label="6 GB target")
    b.set_xlabel("villages")
    b.set_ylabel("peak RSS (MB)")
    b.set_title("Memory")
    b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prefect_server(home: Path) -> tuple[subprocess.Popen, str]:
    import urllib.request

    port = _free_port()
    env = dict(os.environ, PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{port}/api"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{api}/health", timeout=2)
            return proc, api
        except OSError:
            time.sleep(1)
    proc.kill()
    raise SystemExit("Prefect server did not start in 120 s")


def _child(args: list[str], env: dict | None = None) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-5000:])
        raise SystemExit(proc.returncode)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--villages", type=int, nargs="+", default=[30, 300])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", help="work folder to keep and reuse (default: a temporary one)")
    ap.add_argument("--province", type=int, default=0, help="also run a province of this many counties")
    ap.add_argument("--province-villages", type=int, default=30)
    ap.add_argument("--no-flow", action="store_true", help="skip the Prefect flow measurements")
    ap.add_argument("--write", help="write the tables to this markdown file (and .json, scaling.png beside it)")
    ap.add_argument("--whole-county", action="store_true",
                    help="counties with bank statements, the registers of other departments and decision records")
    ap.add_argument("--floor", metavar="PYTHON", help="a Python with duckdb: run ../shared/bench/duckdb_floor.py on "
                    "each county beside the stages, in the same run")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.whole_county:
        os.environ["SANZI_BENCH_WHOLE"] = "1"
        global WHOLE
        WHOLE = True
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="sanzi-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if a.one:
        kind, n = a.one
        fn = {"stages": lambda: stages(int(n), a.seed, work), "flow": lambda: flow(int(n), a.seed, work),
              "province": lambda: province(int(n), a.province_villages, a.seed, work)}[kind]
        print(json.dumps(fn(), ensure_ascii=False, default=str))
        return
    res: dict = {"sizes": [], "flows": []}
    for n in a.villages:
        print(f"… {n} villages: stages", file=sys.stderr)
        res["sizes"].append(_child(["--one", "stages", str(n), "--seed", str(a.seed), "--keep", str(work)]))
        if a.floor:
            res.setdefault("floor", []).append(_floor(a.floor, n, work))
    if not a.no_flow or a.province:
        server, api = _prefect_server(work / "prefect-home")
        env = dict(os.environ, PREFECT_API_URL=api, PREFECT_SERVER_ANALYTICS_ENABLED="false")
        try:
            if not a.no_flow:
                for n in a.villages:
                    print(f"… {n} villages: the flow, three nights", file=sys.stderr)
                    res["flows"].append(_child(["--one", "flow", str(n), "--seed", str(a.seed), "--keep", str(work)],
                                               env))
            if a.province:
                print(f"… province of {a.province} × {a.province_villages}", file=sys.stderr)
                res["province"] = _child(["--one", "province", str(a.province), "--province-villages",
                                          str(a.province_villages), "--seed", str(a.seed), "--keep", str(work)], env)
        finally:
            server.terminate()
            server.wait(timeout=30)
    table = render(res)
    print(table)
    if a.write:
        md = Path(a.write)
        cmd = " ".join(sys.argv[1:])
        notes = HERE / "notes.md"
        md.write_text(f"# Benchmark results\n\n`bench/bench.py {cmd}`\n\n{table}\n"
                      + (f"\n{notes.read_text(encoding='utf-8')}" if notes.exists() else ""), encoding="utf-8")
        md.with_suffix(".json").write_text(json.dumps(res, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        plot(res, md.parent / "scaling.png")


if __name__ == "__main__":
    main()
