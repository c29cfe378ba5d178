"""补贴异常（模型）: claims that an unsupervised PyOD model (ECOD) finds out of line within their program and
village, for what the rules miss. Each lead names the features that drove its score and how far they are from the
village's norm for that program.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan, ymd
from sanzi_audit.detectors.examples import Example, claim, resident

FEATURES = {  # column → how an auditor reads it
    "amount_ratio": "发放金额与本村同项目中位数之比（对数）",
    "rate_dev": "每亩金额偏离本村同项目中位数（对数差）",
    "area_excess": "申报面积超出名册承包面积的比例",
    "repeat": "同一人同项目同期间的其他发放笔数",
    "account_share": "同一账户收款的其他人数",
}


def _area(i: int) -> float:
    return round(3 + 5 * ((i * 0.618034) % 1), 2)


def _roster(n: int) -> list[dict]:
    return [resident(f"P{i:04d}", f"人{i}", contracted_area=_area(i)) for i in range(n)]


def _roll(n: int, outlier: int | None = None) -> list[dict]:
    """``n`` example 耕地地力保护补贴 claims at 115–125元/亩 of the roster's area; ``outlier`` claims 30 亩."""
    out = []
    for i in range(n):
        area = 30.0 if i == outlier else _area(i)
        out.append(claim(f"C{i}", f"P{i:04d}", f"人{i}", "2024-04-01", round(area * (115 + 10 * ((i * 0.414214) % 1)), 2),
                         period="2024", quantity=area, bank_account=f"62{i:08d}"))
    return out


class ClaimsOutlierParams(Params):
    contamination: float = Field(0.002, gt=0, lt=0.1, description="Share of claims the model flags (the most "
                                 "outlying ones)")
    min_claims: int = Field(200, ge=20, description="Fewer claims than this in the county: the model is not run")
    explain_top: int = Field(2, ge=1, le=5, description="Features named in each explanation")


class ClaimsOutlier(Detector):
    name = "claims_outlier"
    version = "1.0"
    default_weight = 0.5
    enabled_by_default = False
    scope = "population"  # each claim is scored against all claims of its program in the input
    title = "补贴异常（模型）"
    description = ("PyOD ECOD over per-claim features within program and village (amount and rate against the "
                   "village's median for the program, area above the roster's, repeats, claimants sharing the "
                   "account); flags the most outlying `contamination` share of claims and explains each by its "
                   "largest per-feature tail scores.")
    requires = ("claims",)
    uses = ("residents",)
    Params = ClaimsOutlierParams

    examples = (
        Example("400 笔耕地地力保护补贴中，一人按 30 亩领取（名册承包 5 亩左右）",
                {"claims": _roll(400, outlier=7), "residents": _roster(400)}, leads=1, params={"contamination": 0.0025}),
        Example("只有 50 笔补贴：样本太少，模型不作判断",
                {"claims": _roll(50), "residents": _roster(50)}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        claims = data["claims"]
        if len(claims) < self.params.min_claims:
            return []
        from pyod.models.ecod import ECOD

        X, raw = features(claims, data["residents"] if data.has("residents") else None)
        model = ECOD(contamination=self.params.contamination)
        model.fit(X.to_numpy())
        scores = model.decision_scores_
        cut = np.quantile(scores, 1 - self.params.contamination)
        picked = np.flatnonzero(scores >= cut)
        order = picked[np.argsort(-scores[picked], kind="stable")]
        per_dim = np.asarray(model.O)
        ranks = pd.Series(scores).rank(pct=True).to_numpy()
        leads = []
        for i in order:
            c = claims.iloc[i]
            top = np.argsort(-per_dim[i])[: self.params.explain_top]
            why = "；".join(f"{FEATURES[X.columns[j]]}: 本笔 {_reading(X.columns[j], X, raw, i)}" for j in top)
            leads.append(self.lead(
                village_code=c["village_code"],
                score=round(float(0.3 + 0.4 * ranks[i]), 3),
                amount_at_risk=float(c["amount"] or 0),
                title=f"补贴异常疑点（模型）：{c['claimant_name'] or '（无姓名）'} {c['program']} {wan(float(c['amount'] or 0))}",
                explanation=(f"{ymd(c['pay_date'])} 发放给“{c['claimant_name'] or ''}”的{c['program']}"
                             f"（{c['period'] or ''}）{wan(float(c['amount'] or 0))}，在全县 {len(claims):,} 笔补贴中被"
                             f"无监督模型（ECOD）评为最异常的 {self.params.contamination:.1%} 之一。主要原因——{why}。"
                             "模型线索只说明与同村同项目的常态不同，请结合名册和申报材料核实；若差异有合理原因（如补发、"
                             "家庭人数多），可据申报材料排除。"),
                evidence=[("claims", str(c["claim_id"]))],
                key=(str(c["claim_id"]),),
                details={"model": "ECOD", "score": float(scores[i]),
                         "features": {X.columns[j]: float(X.iat[i, j]) for j in range(X.shape[1])},
                         "drivers": [X.columns[j] for j in top]},
            ))
        return leads


def features(claims: pd.DataFrame, residents: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Numeric features per claim, and the raw amounts and medians behind them (for explanations)."""
    amount = claims["amount"].astype(float).fillna(0.0)
    qty = claims["quantity"].astype(float)
    grp = [claims["village_code"], claims["program"]]
    med_amount = amount.groupby(grp).transform("median").replace(0, np.nan)
    amount_ratio = np.log((amount.clip(lower=0.01)) / med_amount).fillna(0.0)
    rate = (amount / qty.where(qty > 0)).astype(float)
    med_rate = rate.groupby(grp).transform("median")
    rate_dev = np.log(rate / med_rate).abs().replace([np.inf, -np.inf], np.nan).fillna(0.0)
    area_excess = pd.Series(0.0, index=claims.index)
    if residents is not None and "contracted_area" in residents:
        area = claims["claimant_id"].map(residents.drop_duplicates("person_id").set_index("person_id")
                                         ["contracted_area"].astype(float))
        area_excess = ((qty / area.where(area > 0)) - 1).clip(lower=0).fillna(0.0)
    key = [claims["claimant_id"], claims["program"], claims["period"].fillna("")]
    repeat = claims.groupby(key)["claim_id"].transform("size").astype(float) - 1
    acct = claims["bank_account"].fillna("")
    share = claims.groupby(acct)["claimant_id"].transform("nunique").astype(float) - 1
    share = share.where(acct != "", 0.0)
    X = pd.DataFrame({"amount_ratio": amount_ratio, "rate_dev": rate_dev, "area_excess": area_excess,
                      "repeat": repeat, "account_share": share}).astype(float).reset_index(drop=True)
    raw = pd.DataFrame({"amount": amount, "med_amount": med_amount, "rate": rate, "med_rate": med_rate}
                       ).reset_index(drop=True)
    return X, raw


def _reading(feature: str, X: pd.DataFrame, raw: pd.DataFrame, i: int) -> str:
    """One feature's value for claim i, as an auditor reads it."""
    r = raw.iloc[i]
    if feature == "amount_ratio":
        return f"{r['amount']:,.2f}元，本村同项目中位数 {r['med_amount']:,.2f}元"
    if feature == "rate_dev":
        return (f"{r['rate']:,.1f}元/亩，本村同项目中位数 {r['med_rate']:,.1f}元/亩" if r["rate"] == r["rate"]
                else "无面积")
    if feature == "area_excess":
        return f"超出 {X.at[i, feature]:.0%}"
    return f"{int(X.at[i, feature])} {'笔' if feature == 'repeat' else '人'}"
