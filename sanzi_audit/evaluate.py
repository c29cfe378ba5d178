"""Honest evaluation against a synthetic county's ground truth (``sanzi eval``).

Definitions (also in docs/evaluation.md):
- A *case* is one injected anomaly (truth.csv case_id) with its records.
- A case is *found* when one current lead (ranked in the latest run) lists at least min(2, case size) of the
  case's records in its evidence: the lead holds the case, not a stray record of it. The looser figure, any
  lead holding any one record, is reported beside it as *touched*.
- recall(type) = found cases / injected cases of that fraud type (recall_any: touched / injected).
- A lead is a *true positive* when its evidence contains at least one record of any injected case.
  precision@K = true-positive leads among the K best-ranked leads / K (fewer leads than K: over those).
- Baseline: a plain PyOD IsolationForest over numeric features of ledger payment lines; its K highest
  scoring lines are its "leads", scored by the same rules, so the value of the rules is visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa

from . import store
from .registry import quality_sources


@dataclass
class TypeResult:
    fraud_type: str
    injected: int
    found: int  # one lead holds min(2, size) of the case's records
    touched: int = -1  # any lead holds any record of the case (-1: not computed, same as found)

    @property
    def recall(self) -> float:
        return self.found / self.injected if self.injected else float("nan")

    @property
    def recall_any(self) -> float:
        touched = self.found if self.touched < 0 else self.touched
        return touched / self.injected if self.injected else float("nan")


@dataclass
class EvalReport:
    types: list[TypeResult]
    precision_at: dict[int, float]
    leads: int
    baseline_precision_at: dict[int, float] = field(default_factory=dict)
    baseline_types: list[TypeResult] = field(default_factory=list)
    per_detector: list[tuple[str, int, float]] = field(default_factory=list)  # (detector, leads, precision)
    # subsidy-claim patterns: the rules' leads alone vs the PyOD claims model alone, at the same number of flags
    claims_rules: list[TypeResult] = field(default_factory=list)
    claims_model: list[TypeResult] = field(default_factory=list)
    claims_flags: tuple[int, int] = (0, 0)  # (rules' claim records flagged, model's)
    # honest look-alike leads (evidence holds a look-alike record and no injected one) among the K best
    lookalikes_at: dict[int, int] = field(default_factory=dict)
    lookalike_kinds: dict[str, int] = field(default_factory=dict)  # in the top max(K), by look-alike kind


def current_leads(engine: sa.Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    with engine.connect() as conn:
        leads = pd.read_sql_query(sa.text(
            "SELECT lead_id, detector, rank FROM leads WHERE rank IS NOT NULL ORDER BY rank"), conn)
        ev = pd.read_sql_query(sa.text(
            "SELECT e.lead_id, e.source_table, e.record_id FROM lead_evidence e "
            "JOIN leads l ON l.lead_id = e.lead_id WHERE l.rank IS NOT NULL"), conn)
    return leads, ev


def _score(truth: pd.DataFrame, flagged: pd.DataFrame, order: list[str], ks: list[int]):
    """flagged: (lead_id, source_table, record_id); order: lead ids best first."""
    truth = truth.astype({"record_id": "str"})
    keyed = truth.assign(k=truth["source_table"] + "\x1f" + truth["record_id"])
    fk = flagged["source_table"] + "\x1f" + flagged["record_id"].astype("str")
    hit_records = set(fk)
    touched_cases = set(keyed.loc[keyed["k"].isin(hit_records), "case_id"])
    # strict: per (lead, case), how many of the case's distinct records the lead holds
    cases_of = keyed.drop_duplicates(["case_id", "k"])
    size = cases_of.groupby("case_id")["k"].size()
    held = (pd.DataFrame({"lead_id": flagged["lead_id"].to_numpy(), "k": fk.to_numpy()}).drop_duplicates()
            .merge(cases_of[["case_id", "k"]], on="k"))
    per = held.groupby(["lead_id", "case_id"]).size().rename("n").reset_index()
    per["need"] = per["case_id"].map(size).clip(upper=2)
    found_cases = set(per.loc[per["n"] >= per["need"], "case_id"])
    types = []
    for ft, g in keyed.groupby("fraud_type", sort=True):
        cases = set(g["case_id"])
        types.append(TypeResult(ft, len(cases), len(cases & found_cases), len(cases & touched_cases)))
    truth_keys = set(keyed["k"])
    tp_leads = set(flagged.loc[fk.isin(truth_keys), "lead_id"])
    prec = {}
    for k in ks:
        top = order[:k]
        prec[k] = (sum(1 for x in top if x in tp_leads) / len(top)) if top else float("nan")
    return types, prec, tp_leads


def resolve_truth(engine: sa.Engine, truth: pd.DataFrame) -> pd.DataFrame:
    """A truth keyed by file, sheet and row (``sanzi synth --format …``) → the record ids the reader gave those rows.

    Rows the warehouse does not hold (quarantined, or never read) keep no record id, so their cases count as
    missed: the evaluation measures the reader too."""
    if "source_file" not in truth or truth["source_file"].isna().all():
        return truth
    from .contract import TABLES

    out = []
    for table, part in truth.groupby("source_table", sort=False):
        if part["source_file"].isna().all():
            out.append(part)
            continue
        rid = TABLES[table].record_id
        with engine.connect() as conn:
            wh = pd.read_sql_query(sa.text(f"SELECT {rid} AS rid, source_file, source_sheet, source_row FROM wh_{table}"),
                                   conn, dtype={"rid": "str", "source_file": "str", "source_sheet": "str"})
        wh["source_row"] = wh["source_row"].astype("Int64").astype("str")
        wh["source_sheet"] = wh["source_sheet"].fillna("")
        p = part.assign(source_row=part["source_row"].astype("str"), source_sheet=part["source_sheet"].fillna(""))
        merged = p.merge(wh, how="left", on=["source_file", "source_sheet", "source_row"])
        merged["record_id"] = merged["rid"].where(merged["rid"].notna(), "∅" + merged["source_file"].fillna("")
                                                  + ":" + merged["source_row"].fillna(""))
        out.append(merged.drop(columns=["rid"]))
    return pd.concat(out, ignore_index=True)


def evaluate(engine: sa.Engine, truth: pd.DataFrame, ks: Sequence[int] = (50, 100, 200), baseline: bool = True,
             lookalikes: pd.DataFrame | None = None) -> EvalReport:
    leads, ev = current_leads(engine)
    truth = resolve_truth(engine, truth)
    types, prec, tp = _score(truth, ev, list(leads["lead_id"]), list(ks))
    per_det = [(d, len(g), float(g["lead_id"].isin(tp).mean())) for d, g in leads.groupby("detector", sort=True)]
    report = EvalReport(types, prec, len(leads), per_detector=per_det)
    if lookalikes is not None and len(lookalikes):
        report.lookalikes_at, report.lookalike_kinds = _lookalikes(engine, lookalikes, leads, ev, tp, list(ks))
    if baseline:
        report.baseline_types, report.baseline_precision_at = _baseline(engine, truth, list(ks), max(len(leads), max(ks)))
        _compare_claims_model(engine, truth, leads, ev, report)
    return report


def _lookalikes(engine: sa.Engine, look: pd.DataFrame, leads: pd.DataFrame, ev: pd.DataFrame, tp: set[str],
                ks: list[int]) -> tuple[dict[int, int], dict[str, int]]:
    """Leads that hold an honest look-alike record and no injected one, among the K best."""
    look = resolve_truth(engine, look.rename(columns={"kind": "fraud_type"}).assign(case_id=lambda d: d["fraud_type"]))
    keyed = look["source_table"] + "\x1f" + look["record_id"].astype("str")
    kind_of = dict(zip(keyed, look["fraud_type"], strict=True))
    ek = ev["source_table"] + "\x1f" + ev["record_id"].astype("str")
    hit = ev.assign(kind=ek.map(kind_of)).dropna(subset=["kind"])
    hit = hit[~hit["lead_id"].isin(tp)]
    first_kind = hit.groupby("lead_id")["kind"].first()
    order = list(leads["lead_id"])
    at = {k: sum(1 for x in order[:k] if x in first_kind.index) for k in ks}
    top = [x for x in order[:max(ks)] if x in first_kind.index]
    return at, first_kind.loc[top].value_counts().to_dict()


def _compare_claims_model(engine: sa.Engine, truth: pd.DataFrame, leads: pd.DataFrame, ev: pd.DataFrame,
                          report: EvalReport) -> None:
    """Recall of the claim patterns by the rule detectors' leads, and by the PyOD model alone flagging as many
    claims as the rules did (at least 50)."""
    from .config import load_config
    from .detectors.base import DetectorInput
    from .detectors.claims_outlier import ClaimsOutlier

    claim_truth = truth[truth["fraud_type"].str.startswith("claim_")]
    if claim_truth.empty:
        return
    rule_ids = set(leads.loc[~leads["detector"].isin({"claims_outlier", *quality_sources()}), "lead_id"])
    rules_flagged = ev[ev["lead_id"].isin(rule_ids)]
    report.claims_rules, _, _ = _score(claim_truth, rules_flagged, [], [])
    tables = {t: store.read_warehouse(engine, t) for t in ("claims", "residents")}
    n_claims = len(tables["claims"])
    n_rules = int((rules_flagged["source_table"] == "claims").sum())
    n = max(n_rules, 50)
    if n_claims < 20:
        return
    share = min(0.09, max(n / n_claims, 1e-4))
    model = ClaimsOutlier(ClaimsOutlier.Params(contamination=share, min_claims=20))
    found = model.detect(DetectorInput(tables, load_config()))
    flagged = pd.DataFrame([(ld.lead_id, t, r) for ld in found for t, r in ld.evidence],
                           columns=["lead_id", "source_table", "record_id"])
    report.claims_model, _, _ = _score(claim_truth, flagged, [], [])
    report.claims_flags = (n_rules, len(flagged))


def baseline_features(led: pd.DataFrame) -> pd.DataFrame:
    amount = led["debit"].fillna(0) + led["credit"].fillna(0)
    date = pd.to_datetime(led["entry_date"])
    payee_freq = led.groupby(["village_code", "counterparty"])["entry_id"].transform("size").fillna(0)
    return pd.DataFrame({
        "log_amount": np.log1p(amount.clip(lower=0)),
        "round_amount": (amount % 100 == 0).astype(float),
        "day_of_year": date.dt.day_of_year.fillna(0),
        "weekday": date.dt.day_of_week.fillna(0),
        "account": pd.to_numeric(led["account_code"].str.slice(0, 3), errors="coerce").fillna(0),
        "cash": (led["settlement"] == "现金").astype(float),
        "no_invoice": led["invoice_no"].isna().astype(float),
        "payee_rarity": 1.0 / payee_freq.clip(lower=1),
    })


def _baseline(engine: sa.Engine, truth: pd.DataFrame, ks: list[int], n_flag: int):
    from pyod.models.iforest import IForest

    led = store.read_warehouse(engine, "ledger")
    led = led[led["debit"].fillna(0) > 0].reset_index(drop=True)
    if len(led) < 10:
        return [], {}
    X = baseline_features(led).to_numpy()
    model = IForest(n_estimators=100, random_state=0)
    model.fit(X)
    order = np.argsort(-model.decision_scores_, kind="stable")[:n_flag]
    flagged = pd.DataFrame({"lead_id": led["entry_id"].iloc[order].to_numpy(), "source_table": "ledger",
                            "record_id": led["entry_id"].iloc[order].to_numpy()})
    types, prec, _ = _score(truth, flagged, list(flagged["lead_id"]), ks)
    return types, prec
