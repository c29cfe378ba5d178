"""prefect.yaml on a real Prefect server: deploy, start a process worker, run the nightly deployment, check the
review table and that the schedule produced runs at 02:00 Asia/Shanghai.

This is the procedure of README "Run it every night", run by a test. One server for the module (~15 s to start).
"""

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).parent / "prefect")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect_home")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="3",
               PREFECT_LOGGING_LEVEL="WARNING")
    log = open(home / "server.log", "w")  # noqa: SIM115  (closed below)
    server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.time() > deadline:
                raise RuntimeError("Prefect server did not start:\n" + (home / "server.log").read_text()[-3000:])
            time.sleep(0.5)
        yield env, f"http://127.0.0.1:{port}/api"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        log.close()


def _prefect(env, *args, timeout=300, cwd=ROOT):
    r = subprocess.run([PREFECT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"prefect {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


def test_nightly_deployment_on_a_real_server(prefect_server, small_county, tmp_path):
    env, api = prefect_server
    db = tmp_path / "review.db"
    env = dict(env, SANZI_HOME=str(ROOT), SANZI_SOURCE=str(small_county), SANZI_DB_URL=f"sqlite:///{db}",
               SANZI_CONFIG="", SANZI_PROVINCE="")
    _prefect(env, "work-pool", "create", "sanzi", "--type", "process")
    _prefect(env, "--no-prompt", "deploy", "--all")

    # the schedule: upcoming runs of the nightly deployment at 02:00 Beijing time (and none for the others)
    deadline = time.time() + 60
    while True:
        runs = httpx.post(f"{api}/flow_runs/filter", json={
            "deployments": {"name": {"any_": ["nightly"]}},
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}, timeout=10).json()
        if runs or time.time() > deadline:
            break
        time.sleep(1)
    assert runs, "the scheduler created no runs for the nightly deployment"
    local = [dt.datetime.fromisoformat(r["expected_start_time"]).astimezone(ZoneInfo("Asia/Shanghai")) for r in runs]
    assert all((t.hour, t.minute) == (2, 0) for t in local), local
    deployments = httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
    assert {d["name"] for d in deployments} == {"nightly", "backfill", "township", "province"}

    # a worker picks up a manual run of the nightly deployment and the review table fills
    wlog = open(tmp_path / "worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen([PREFECT, "worker", "start", "--pool", "sanzi", "--limit", "1"], env=env, cwd=ROOT,
                              stdout=wlog, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out = _prefect(env, "deployment", "run", "sanzi-nightly/nightly", "--watch", "--watch-timeout", "600",
                       timeout=660)
        assert "Completed" in out, out[-2000:]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
        wlog.close()
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as c:
        run = c.execute(sa.text("SELECT status, counts FROM runs")).one()
        leads = c.execute(sa.text("SELECT count(*) FROM leads WHERE rank IS NOT NULL")).scalar()
    engine.dispose()
    assert run.status == "success" and leads > 0
    assert all(x["read"] == x["loaded"] + x["quarantined"] for x in json.loads(run.counts))

    # the run published its summary and top-leads artifacts
    arts = httpx.post(f"{api}/artifacts/filter", json={}, timeout=10).json()
    keys = {a["key"] for a in arts}
    assert {"sanzi-run-summary", "sanzi-top-leads"} <= keys
    table = next(a for a in arts if a["key"] == "sanzi-top-leads")
    rows = json.loads(table["data"]) if isinstance(table["data"], str) else table["data"]
    text = json.dumps(rows, ensure_ascii=False)
    assert "排名" in text and not re.search(r"(?<![\d*])\d{17}[\dX](?![\d*])", text)  # no full ID numbers
