"""The province flow on a real Dask LocalCluster (two worker processes) against the session's Prefect server:
three synthetic counties in parallel, the cross-county step finds every injected cross-border case, and a county
that fails is reported without sinking the others."""

import pandas as pd
import sqlalchemy as sa
import yaml

from sanzi_audit import store


def test_province_flow(tmp_path, prefect_harness):
    from sanzi_audit.flows.province import run_province
    from sanzi_audit.synth.province import write_province

    out = write_province(tmp_path / "prov", counties=3, villages=18, seed=5, vouchers_per_village=150)
    cfg = yaml.safe_load((out / "province.yaml").read_text(encoding="utf-8"))
    # a fourth county whose review database cannot be opened: it fails, the others go on
    cfg["counties"].append(dict(name="坏县", source=cfg["counties"][0]["source"], db="sqlite:////proc/no/such.db"))
    (out / "province.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")

    s = run_province(str(out / "province.yaml"))
    by = {c["name"]: c for c in s["counties"]}
    assert s["status"] == "partial" and by["坏县"]["status"] == "failed" and by["坏县"]["message"]
    assert all(by[n]["status"] == "success" and by[n]["leads"] > 0 for n in ("演示县", "演示二县", "演示三县"))
    assert all(by[n]["peak_rss_mb"] > 0 and sum(by[n]["rows"].values()) > 10_000 for n in ("演示县", "演示二县"))

    # every injected cross-county case is found, and every cross-county lead is one of them
    truth = pd.read_csv(out / "truth.csv", dtype=str)
    engine = store.connect(f"sqlite:///{out / 'province.db'}")
    with engine.connect() as c:
        ev = pd.read_sql_query(sa.text("SELECT e.lead_id, l.detector, e.source_table, e.record_id FROM lead_evidence e "
                                       "JOIN leads l USING (lead_id)"), c)
        copied = c.execute(sa.text("SELECT count(*) FROM wh_claims")).scalar()
        run = c.execute(sa.text("SELECT status FROM runs ORDER BY run_id DESC")).scalar()
    hit = truth[truth["record_id"].isin(ev["record_id"])]
    assert set(hit["case_id"]) == set(truth["case_id"]) and truth["case_id"].nunique() >= 5
    assert ev.groupby("lead_id")["record_id"].apply(lambda r: r.isin(truth["record_id"]).any()).all()
    assert set(ev["detector"]) == {"cross_county_claims", "cross_township_splits"}
    assert copied == len(ev[ev["source_table"] == "claims"]) and run == "partial"
    assert s["cross_county"]["leads"] == ev["lead_id"].nunique()


def test_a_bad_province_file_is_refused_before_anything_runs(tmp_path):
    import pytest

    from sanzi_audit.config import ConfigError
    from sanzi_audit.province import load_province

    bad = tmp_path / "p.yaml"
    bad.write_text("name: x\ndb: sqlite:///p.db\ncounties: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="至少一个县"):
        load_province(bad)
    bad.write_text("db: sqlite:///p.db\ncounties:\n  - {name: a, source: s, db: 'sqlite:///a.db', typo: 1}\n",
                   encoding="utf-8")
    with pytest.raises(ConfigError, match="typo"):
        load_province(bad)
