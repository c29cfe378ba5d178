"""With the real detectors: new records make the right lead grow under the same id; nothing duplicates or vanishes."""

import shutil

import pandas as pd
import sqlalchemy as sa

from sanzi_audit import pipeline, store
from sanzi_audit.config import load_config
from sanzi_audit.sources import extract


def run(engine, src, run_id):
    cfg = load_config()
    validated = pipeline.validate_all(extract(src))
    pipeline.load(engine, validated, run_id)
    leads, reports = pipeline.detect(pipeline.detector_input(engine, validated, run_id, cfg), cfg)
    return pipeline.publish(engine, pipeline.rank(leads, cfg, engine), run_id, cfg.review,
                            detectors_ran={r.name for r in reports if r.status == "ran"})


def evidence(engine):
    with engine.connect() as c:
        return pd.read_sql_query(sa.text("SELECT e.lead_id, e.record_id, l.detector, l.status FROM lead_evidence e "
                                         "JOIN leads l ON l.lead_id = e.lead_id"), c)


def test_a_new_piece_joins_its_split_lead(db_url, small_county, tmp_path):
    engine = store.connect(db_url)
    run(engine, small_county, 1)
    ev1 = evidence(engine)
    contracts = pd.read_csv(small_county / "contracts.csv", dtype=str)
    split_ids = set(ev1.loc[ev1["detector"] == "split_contracts", "lead_id"])
    lead_id = sorted(split_ids)[0]
    pieces = contracts[contracts["contract_no"].isin(ev1.loc[ev1["lead_id"] == lead_id, "record_id"])]
    assert len(pieces) >= 2

    src = tmp_path / "night2"
    shutil.copytree(small_county, src)
    extra = pieces.iloc[[-1]].copy()
    extra["contract_no"] = "HT-NEW-PIECE"
    extra["sign_date"] = (pd.Timestamp(pieces["sign_date"].min()) + pd.Timedelta(days=3)).strftime("%Y-%m-%d")
    pd.concat([contracts, extra]).to_csv(src / "contracts.csv", index=False)

    res = run(engine, src, 2)
    ev2 = evidence(engine)
    assert set(ev2["lead_id"]) >= set(ev1["lead_id"])  # nothing lost
    assert "HT-NEW-PIECE" in set(ev2.loc[ev2["lead_id"] == lead_id, "record_id"])  # the same lead grew
    holders = set(ev2.loc[(ev2["record_id"] == "HT-NEW-PIECE") & (ev2["detector"] == "split_contracts"), "lead_id"])
    assert holders == {lead_id}  # and no second split lead was made of it
    assert res.resolved_by_data == 0
    with engine.connect() as c:
        n = c.execute(sa.select(sa.func.count()).select_from(store.leads)).scalar()
    assert n == len(set(ev2["lead_id"]))
