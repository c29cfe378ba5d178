"""One ranking across detectors, with leads that share evidence grouped into cases.

    amount_factor = min(1, log10(1 + amount_at_risk) / log10(1 + ranking.amount_cap))
    priority      = weight(detector) × (score_share × score + (1 − score_share) × amount_factor)

Leads that share any evidence record (the same ledger line, contract or claim) form one case, so an auditor
reads the same money once. Cases are ordered by their best lead's priority, raised when several detectors flag
the case independently (best × (1 + ranking.signal_boost × (detectors − 1)), at most two extra): a split that
went to a cadre's relative ranks above either signal alone. Within a case, leads follow by priority. Rank 1 is the
lead to look at first. Ties break on lead_id, so ranks are deterministic.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from .config import Config
from .detectors.base import Lead
from .registry import quality_sources, settings


def priority(score: float, amount: float, weight: float, config: Config) -> float:
    r = config.ranking
    amount_factor = min(1.0, math.log10(1 + max(0.0, amount)) / math.log10(1 + r.amount_cap))
    return weight * (r.score_share * score + (1 - r.score_share) * amount_factor)


def feedback_weights(shares: list[dict], config: Config) -> dict[str, float]:
    """Per detector: the multiplier reviewers' verdicts earn it (empty unless ranking.feedback_weighting)."""
    if not config.ranking.feedback_weighting:
        return {}
    by: dict[str, list[int]] = {}
    for r in shares:
        agg = by.setdefault(r["detector"], [0, 0])
        agg[0] += r["reviewed"]
        agg[1] += r["confirmed"]
    return {d: 0.5 + c / n for d, (n, c) in by.items() if n >= config.ranking.feedback_min_reviewed}


def rank_leads(leads: list[Lead], config: Config, feedback: dict[str, float] | None = None) -> pd.DataFrame:
    """A frame of leads with lead_id, case_id, priority and rank; evidence kept as a list column.

    ``feedback``: per-detector multipliers from reviewers' verdicts (see feedback_weights).
    """
    feedback = feedback or {}
    cols = ["lead_id", "detector", "detector_version", "case_id", "village_code", "township_code", "score", "priority", "rank",
            "amount_at_risk", "title", "explanation", "details", "evidence"]
    if not leads:
        return pd.DataFrame(columns=cols)
    by_id: dict[str, Lead] = {}
    for ld in leads:  # two detections of the same anomaly keep the stronger one
        prev = by_id.get(ld.lead_id)
        if prev is None or ld.score > prev.score:
            by_id[ld.lead_id] = ld
    # each detector's weight once (settings resolves the county's override against the class), not once per lead
    weight = {d: settings(config, d).weight * feedback.get(d, 1.0) for d in {ld.detector for ld in by_id.values()}}
    rows = []
    for lid, ld in sorted(by_id.items()):
        w = weight[ld.detector]
        rows.append(dict(lead_id=lid, detector=ld.detector, detector_version=ld.detector_version or None,
                         village_code=ld.village_code,
                         township_code=ld.village_code[:9], score=ld.score,
                         priority=round(priority(ld.score, ld.amount_at_risk, w, config), 6),
                         amount_at_risk=round(float(ld.amount_at_risk), 2), title=ld.title,
                         explanation=ld.explanation, details=json.dumps(ld.details, ensure_ascii=False, default=str),
                         evidence=ld.evidence, joins=ld.joins_cases))
    df = pd.DataFrame(rows)
    # data-quality leads are kept apart: never merged into a fraud case, ranked after every fraud lead
    dq = df["detector"].isin(quality_sources()).to_numpy()
    df["case_id"] = df["lead_id"]
    if (~dq).any():
        df.loc[~dq, "case_id"] = _cases(df.loc[~dq].reset_index(drop=True))
    best = df.groupby("case_id")["priority"].transform("max")
    joined = ~dq & df["joins"].to_numpy()
    signals = df[joined].groupby("case_id")["detector"].transform("nunique").reindex(df.index).fillna(1)
    best = best * (1 + config.ranking.signal_boost * (signals.clip(upper=3) - 1))
    df = df.assign(_best=best, _dq=dq).sort_values(["_dq", "_best", "case_id", "priority", "lead_id"],
                                                   ascending=[True, False, True, False, True])
    df["rank"] = range(1, len(df) + 1)
    return df.drop(columns=["_best", "_dq"]).reset_index(drop=True)[cols]


def _cases(df: pd.DataFrame) -> list[str]:
    parent = list(range(len(df)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[str, str], int] = {}
    for i, (ev, joins) in enumerate(zip(df["evidence"], df["joins"], strict=True)):
        if not joins:  # a population-level lead (Benford) stays a case of its own
            continue
        for rec in ev:
            j = owner.setdefault(tuple(rec), i)
            if j != i:
                parent[find(i)] = find(j)
    roots = [find(i) for i in range(len(df))]
    first_id: dict[int, str] = {}
    for i, r in enumerate(roots):  # a case is named after its smallest lead id: stable across runs
        lid = df["lead_id"].iat[i]
        if r not in first_id or lid < first_id[r]:
            first_id[r] = lid
    return ["C-" + first_id[r].split(":", 1)[1] for r in roots]
