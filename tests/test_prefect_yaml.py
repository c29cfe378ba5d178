"""prefect.yaml points at the real flow with parameters it accepts (the real-server run is tested elsewhere)."""

import inspect
from pathlib import Path

import yaml

ROOT = Path(__file__).parent.parent


def test_deployments_point_at_the_flow_with_valid_parameters():
    from prefect.flows import load_flow_from_entrypoint

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    deployments = {d["name"]: d for d in spec["deployments"]}
    assert set(deployments) == {"nightly", "backfill", "township", "province"}
    province = deployments.pop("province")
    flow = load_flow_from_entrypoint(str(ROOT / province["entrypoint"]))
    assert set(province["parameters"]) == {"config_path"} <= set(inspect.signature(flow.fn).parameters)
    assert "schedules" not in province  # on demand; a province schedules it when it outgrows one machine
    for d in deployments.values():
        flow = load_flow_from_entrypoint(str(ROOT / d["entrypoint"]))
        accepted = set(inspect.signature(flow.fn).parameters)
        assert set(d["parameters"]) <= accepted and "source" in d["parameters"], d["name"]
        assert d["work_pool"]["name"] == "sanzi"
    assert {"period_start", "period_end", "townships"} <= set(deployments["backfill"]["parameters"])
    nightly = deployments["nightly"]
    (sched,) = nightly["schedules"]
    assert sched["cron"] == "0 2 * * *" and sched["timezone"] == "Asia/Shanghai"
