"""Hardening found by trying to break the pipeline: renamed and dropped columns, stray quotes, empty columns."""

from __future__ import annotations

import shutil

import pandas as pd
import sqlalchemy as sa

from sanzi_audit import store


def _open_leads(db: str) -> int:
    with store.connect(db).connect() as c:
        return c.execute(sa.text("SELECT count(*) FROM leads WHERE status IN ('new', 'in_review')")).scalar()


def test_a_header_variant_is_read_and_a_dropped_column_makes_the_night_partial(tmp_path, small_county,
                                                                              prefect_harness):
    from sanzi_audit.flows.nightly import nightly

    src = tmp_path / "src"
    shutil.copytree(small_county, src, ignore=shutil.ignore_patterns("_truth"))
    db = f"sqlite:///{tmp_path / 'review.db'}"
    first = nightly(source=str(src), db=db)
    assert first.status == "success"
    opened = _open_leads(db)
    assert opened > 0
    led = pd.read_csv(src / "ledger.csv", dtype=str, keep_default_na=False)
    # 收款帐号 (帐, not 账) and 身份证号码: the same columns under the headers real exports use
    led.rename(columns={"counterparty_account": "收款帐号", "counterparty_id": "身份证号码"}).to_csv(
        src / "ledger.csv", index=False)
    second = nightly(source=str(src), db=db, full=True)
    assert second.status == "success" and second.leads_resolved == 0, second.problems
    assert _open_leads(db) == opened
    # the column gone (an export that leaves it out): partial, says which column, and closes nothing by data
    led.drop(columns=["counterparty_account"]).to_csv(src / "ledger.csv", index=False)
    third = nightly(source=str(src), db=db, full=True)
    assert third.status == "partial" and third.leads_resolved == 0
    assert any("counterparty_account" in p and "收款账号" in p for p in third.problems), third.problems
    assert _open_leads(db) == opened


def test_a_county_run_without_its_config_says_so_once(tmp_path, small_result):
    """Data from county 330523 read with the built-in 330599 config: one line naming both codes and the setting."""
    from sanzi_audit.config import load_config
    from sanzi_audit.pipeline import validate_all
    from sanzi_audit.sources import extract
    from sanzi_audit.synth import write

    src = write(small_result, tmp_path / "src")
    for f in ("ledger", "claims", "residents", "officials", "contracts"):
        p = src / f"{f}.csv"
        p.write_text(p.read_text(encoding="utf-8").replace("330599", "330523"), encoding="utf-8")
    v = validate_all(extract(src), load_config())
    (msg,) = v.problems
    assert "330599" in msg and "330523" in msg and "region.county_code" in msg


def test_sanzi_province_as_the_readme_runs_it_with_no_prefect_server(tmp_path):
    """`sanzi synth --counties` then `sanzi province --config province.yaml`, through the CLI, with no server
    configured: the flow used to complete and then crash on APILogHandler.flush() called on the class."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="90")
    cli = [sys.executable, "-m", "sanzi_audit.cli"]
    subprocess.run([*cli, "synth", "--out", str(tmp_path / "prov"), "--counties", "2", "--villages", "3"],
                   check=True, capture_output=True, env=env, cwd=tmp_path)
    r = subprocess.run([*cli, "province", "--config", str(tmp_path / "prov" / "province.yaml")], capture_output=True,
                       text=True, env=env, cwd=tmp_path / "prov", timeout=600)
    assert r.returncode == 0, r.stdout[-1500:] + r.stderr[-3000:]
    assert "Traceback" not in r.stderr and "TypeError" not in r.stderr
