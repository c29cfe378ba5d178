"""A synthetic province: several counties, each a source folder with its own config, plus patterns that only a
cross-county look can see, with their truth.

    sanzi synth --out DIR --villages 30 --counties 3

writes DIR/<county code>/ (a county source), DIR/<county code>.yaml (its config), DIR/province.yaml and
DIR/truth.csv (the cross-county cases; each county folder keeps its own truth.csv).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..config import Config, default_config_dict
from . import SynthOptions, generate, write

COUNTY_NAMES = ["演示县", "演示二县", "演示三县", "演示四县", "演示五县", "演示六县", "演示七县", "演示八县"]


def county_code(i: int) -> str:
    return f"3305{99 - i:02d}"


def write_province(out: str | Path, counties: int = 3, villages: int = 30, seed: int = 7,
                   progress: Callable[[str], None] | None = None, vouchers_per_village: int = 1400) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if not 2 <= counties <= len(COUNTY_NAMES):
        raise ValueError(f"counties 应在 2 到 {len(COUNTY_NAMES)} 之间")
    rng = np.random.default_rng(seed + 1000)
    results, entries = [], []
    for i in range(counties):
        code, name = county_code(i), COUNTY_NAMES[i]
        data = default_config_dict()
        data["region"] = {"name": name, "county_code": code}
        cfg = Config.model_validate(data)
        if progress:
            progress(f"生成 {name}（{code}）{villages} 个村")
        results.append(generate(SynthOptions(villages=villages, seed=seed + i,
                                                    vouchers_per_village=vouchers_per_village), cfg))
        (out / f"{code}.yaml").write_text(
            yaml.safe_dump({"region": {"name": name, "county_code": code}}, allow_unicode=True), encoding="utf-8")
        entries.append(dict(name=name, source=code, db=f"sqlite:///{code}.db", config=f"{code}.yaml"))
    truth = _inject(results, rng)
    for i, res in enumerate(results):
        write(res, out / county_code(i), seed=seed + i)
    pd.DataFrame(truth, columns=["case_id", "fraud_type", "county", "source_table", "record_id"]).to_csv(
        out / "truth.csv", index=False, encoding="utf-8")
    (out / "province.yaml").write_text(yaml.safe_dump(dict(
        name="演示省", db="sqlite:///province.db", cluster=dict(address=None, n_workers=2, threads_per_worker=1),
        counties=entries), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def _inject(results, rng: np.random.Generator) -> list[tuple]:
    truth: list[tuple] = []
    n = len(results)
    # 1. one person's pension paid in two counties: the second county's roll carries copies of some months
    for k in range(n):
        a, b = results[k], results[(k + 1) % n]
        ca, cb = a.tables["claims"], b.tables["claims"]
        pens = ca[ca["program"] == "城乡居民基础养老金"]
        pid = pens["claimant_id"].iloc[int(rng.integers(0, len(pens)))]
        rows = pens[pens["claimant_id"] == pid].head(int(rng.integers(3, 7)))
        village = cb["village_code"].iloc[int(rng.integers(0, len(cb)))]
        copies = rows.assign(village_code=village, bank_account=f"62170{int(rng.integers(10**13, 10**14))}",
                             claim_id=[f"{village}YLX{j:05d}" for j in range(len(rows))],
                             pay_date=[d + dt.timedelta(days=int(rng.integers(0, 5))) for d in rows["pay_date"]])
        b.tables["claims"] = pd.concat([cb, copies], ignore_index=True)
        case = f"cross_county_claim-{k + 1:04d}"
        truth += [(case, "cross_county_claim", county_code(k), "claims", x) for x in rows["claim_id"]]
        truth += [(case, "cross_county_claim", county_code((k + 1) % n), "claims", x) for x in copies["claim_id"]]
    # 2. one contractor's road job cut into pieces in villages of different townships, each under the limit
    for k in range(n):
        res = results[k]
        con = res.tables["contracts"]
        works = con[con["category"] == "工程"]
        vendor = works.iloc[int(rng.integers(0, len(works)))]
        towns = sorted(con["village_code"].str[:9].unique())
        if len(towns) < 2:
            continue
        picked = rng.choice(len(towns), size=min(len(towns), int(rng.integers(2, 4))), replace=False)
        start = dt.date(2024, int(rng.integers(3, 10)), int(rng.integers(1, 20)))
        rows = []
        for j, t in enumerate(sorted(picked)):
            vs = sorted(v for v in con["village_code"].unique() if v.startswith(towns[int(t)]))
            village = vs[int(rng.integers(0, len(vs)))]
            rows.append(dict(contract_no=f"HT{village[-6:]}2024X{j + 1:04d}", village_code=village,
                             title=f"{int(rng.integers(1, 12))}组道路硬化工程", category="工程",
                             vendor=vendor["vendor"], vendor_id=vendor["vendor_id"],
                             vendor_account=vendor["vendor_account"],
                             amount=round(100000 * float(rng.uniform(0.75, 0.98)), 2),
                             sign_date=start + dt.timedelta(days=int(rng.integers(0, 20))), method="直接采购"))
        res.tables["contracts"] = pd.concat([con, pd.DataFrame(rows)], ignore_index=True)
        truth += [(f"cross_township_split-{k + 1:04d}", "cross_township_split", county_code(k), "contracts",
                   r["contract_no"]) for r in rows]
    return truth
