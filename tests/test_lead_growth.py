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
    split_ids = sorted(set(ev1.loc[ev1["detector"] == "split_contracts", "lead_id"]))
    # a split lead made of several pieces: registered contracts or unregistered payments, depending on the
    # synthetic draw (a near-limit single contract is a lead of one piece); one more piece arrives on night two
    sources = {"contracts": ("contract_no", "sign_date"), "ledger": ("entry_id", "entry_date")}
    frames = {t: pd.read_csv(small_county / f"{t}.csv", dtype=str) for t in sources}
    lead_id, table, pieces = next(
        (lid, t, p) for lid in split_ids for t, (id_col, _) in sources.items()
        if len(p := frames[t][frames[t][id_col].isin(ev1.loc[ev1["lead_id"] == lid, "record_id"])]) >= 2)
    id_col, date_col = sources[table]
    rows = frames[table]

    src = tmp_path / "night2"
    shutil.copytree(small_county, src)
    extra = pieces.iloc[[-1]].copy()
    extra[id_col] = "NEW-PIECE"
    if table == "ledger":
        extra["voucher_no"] = "2024-9999"
        extra["invoice_no"] = "99999999"
    extra[date_col] = (pd.Timestamp(pieces[date_col].min()) + pd.Timedelta(days=3)).strftime("%Y-%m-%d")
    pd.concat([rows, extra]).to_csv(src / f"{table}.csv", index=False)

    res = run(engine, src, 2)
    ev2 = evidence(engine)
    assert set(ev2["lead_id"]) >= set(ev1["lead_id"])  # nothing lost
    assert "NEW-PIECE" in set(ev2.loc[ev2["lead_id"] == lead_id, "record_id"])  # the same lead grew
    holders = set(ev2.loc[(ev2["record_id"] == "NEW-PIECE") & (ev2["detector"] == "split_contracts"), "lead_id"])
    assert holders == {lead_id}  # and no second split lead was made of it
    assert res.resolved_by_data == 0
    with engine.connect() as c:
        n = c.execute(sa.select(sa.func.count()).select_from(store.leads)).scalar()
    assert n == len(set(ev2["lead_id"]))
