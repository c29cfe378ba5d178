"""A province: several counties run in parallel (the county is the unit of work), then a cross-county step.

``province.yaml`` names the counties (each with its own source, review database and config, exactly what the
county's nightly run takes), where the Dask cluster is, and the province's own review database for leads that
cross county or township borders. See docs/province.md.

The cross-county step never holds all counties' rows at once: claims are read from each county's warehouse one
partition at a time (by the last character of the ID number, 11 partitions), and contracts, which are few, as
narrow columns only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .config import ConfigError, load_config
from .detectors.base import Lead, wan, ymd

PARTITIONS = list("0123456789X")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class County(_Strict):
    name: str
    source: str = Field(description="The county's source: an export folder or a database URL")
    db: str = Field(description="The county's review database URL")
    config: str | None = Field(None, description="The county's config file (thresholds, villages)")


class Cluster(_Strict):
    address: str | None = Field(None, description="A running dask scheduler (tcp://host:8786); empty = LocalCluster")
    n_workers: int = Field(2, ge=1, description="LocalCluster workers (one county at a time each)")
    threads_per_worker: int = Field(1, ge=1)
    memory_limit: str = Field("auto", description="Per LocalCluster worker, e.g. '8GiB'; 'auto' = RAM / workers")


class CrossCounty(_Strict):
    split_window_days: int = Field(30, ge=1, description="Contracts of one contractor this close are one job")
    split_band: float = Field(0.7, gt=0, lt=1, description="Each piece at least this share of its tender limit")
    min_townships: int = Field(2, ge=2, description="Pieces must lie in this many townships (else the county's "
                               "own split detector sees them)")


class Province(_Strict):
    name: str = "演示省"
    db: str = Field(description="Review database for cross-county leads")
    counties: list[County]
    cluster: Cluster = Cluster()
    cross_county: CrossCounty = CrossCounty()


def load_province(path: str | Path) -> Province:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"省级配置文件 {path} 不存在")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"省级配置文件 {path} 不是有效的 YAML: {exc}") from exc
    here = path.parent

    def rel(x: str | None) -> str | None:  # paths in the file are relative to the file
        if not x or "://" in x or Path(x).is_absolute():
            return x
        return str((here / x).resolve())

    try:
        for c in data.get("counties") or []:
            c["source"], c["config"] = rel(c.get("source")), rel(c.get("config"))
            if str(c.get("db", "")).startswith("sqlite:///") and not c["db"].startswith("sqlite:////"):
                c["db"] = f"sqlite:///{rel(c['db'].removeprefix('sqlite:///'))}"
        if str(data.get("db", "")).startswith("sqlite:///") and not data["db"].startswith("sqlite:////"):
            data["db"] = f"sqlite:///{rel(data['db'].removeprefix('sqlite:///'))}"
        prov = Province.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"省级配置文件 {path} 有误: {problems}") from exc
    names = [c.name for c in prov.counties]
    if len(set(names)) != len(names) or not names:
        raise ConfigError(f"省级配置文件 {path}: 县名称须唯一且至少一个县")
    for c in prov.counties:
        load_config(c.config)  # a bad county config fails before anything runs
    return prov


# ---- cross-county detection ----------------------------------------------------------------------------------

def _read(url: str, sql: str, params: dict | None = None) -> pd.DataFrame:
    from . import store

    engine = store.connect(url, check_schema=False)
    try:
        with engine.connect() as conn:
            return pd.read_sql_query(sa.text(sql), conn, params=params or {})
    finally:
        engine.dispose()


def cross_county_claims(counties: list[County]) -> list[Lead]:
    """The same ID number paid for the same program and period in two counties, one ID partition at a time."""
    leads = []
    for part in PARTITIONS:
        frames = []
        for c in counties:
            df = _read(c.db, "SELECT claim_id, village_code, program, period, claimant_name, claimant_id, bank_account, "
                       "amount, pay_date FROM wh_claims WHERE upper(substr(claimant_id, 18, 1)) = :p "
                       "AND length(claimant_id) = 18", {"p": part})
            frames.append(df.assign(county=c.name))
        both = pd.concat(frames, ignore_index=True)
        if both.empty:
            continue
        n_counties = both.groupby(["claimant_id", "program", "period"])["county"].transform("nunique")
        for (pid, program), g in both[n_counties > 1].groupby(["claimant_id", "program"], sort=True):
            g = g.sort_values(["period", "pay_date", "county"])
            first = g.iloc[0]
            periods = sorted(g["period"].unique())
            where = "；".join(f"{county}：{'、'.join(sorted(h['village_code'].unique()))}，{len(h)} 笔共 "
                             f"{wan(float(h['amount'].sum()))}（账号尾号 {'、'.join(sorted({str(x)[-4:] for x in h['bank_account']}))}）"
                             for county, h in g.groupby("county", sort=True))
            extra = float(g["amount"].sum() - g.groupby("county")["amount"].sum().max())
            leads.append(Lead(
                detector="cross_county_claims", detector_version="1", village_code=str(first.village_code),
                score=round(min(0.95, 0.75 + 0.03 * len(periods)), 4), amount_at_risk=round(extra, 2),
                title=(f"跨县重复领取疑点：{first.claimant_name or pid} {program} {len(periods)} 期在 "
                       f"{g['county'].nunique()} 个县领取"),
                explanation=(f"身份证号相同的领取人在{program} {periods[0]} 至 {periods[-1]} 共 {len(periods)} 期中，在多个县"
                             f"均有发放：{where}。同一人同一项目同一期只应在户籍地领取一次，存在重复领取或冒用身份的疑点，"
                             "建议两县共同核查户籍与发放清册。"),
                evidence=[("claims", str(x)) for x in g["claim_id"]],
                key=("claims", str(pid), str(program)),
                details=dict(counties=sorted(g["county"].unique()), periods=periods,
                             county_of={str(r.claim_id): r.county for r in g.itertuples()}),
            ))
    return leads


def cross_township_splits(counties: list[County], params: CrossCounty) -> list[Lead]:
    """One contractor's contracts for the same kind of job in villages of different townships (or counties),
    signed within a window, each just under its tender limit and together above it."""
    frames = []
    for c in counties:
        df = _read(c.db, "SELECT contract_no, village_code, title, category, vendor, vendor_id, amount, sign_date "
                   "FROM wh_contracts WHERE category IN ('工程', '货物', '服务')")
        cfg = load_config(c.config)
        df["limit"] = [cfg.thresholds_for(v).tender_limit_for(k) for v, k in zip(df["village_code"], df["category"],
                                                                                   strict=True)]
        frames.append(df.assign(county=c.name))
    con = pd.concat(frames, ignore_index=True)
    if con.empty:
        return []
    con["sign_date"] = pd.to_datetime(con["sign_date"])
    con["job"] = con["title"].fillna("").str.replace(r"^\d+组", "", regex=True)
    con["who"] = con["vendor_id"].fillna(con["vendor"])
    band = con[(con["amount"] >= params.split_band * con["limit"]) & (con["amount"] < con["limit"])]
    leads = []
    window = np.timedelta64(params.split_window_days, "D")
    for (who, job, cat), g in band.groupby(["who", "job", "category"], sort=True):
        if len(g) < 2:
            continue
        g = g.sort_values("sign_date")
        dates = g["sign_date"].to_numpy()
        i = 0
        while i < len(g):
            j = i
            while j + 1 < len(g) and dates[j + 1] - dates[i] <= window:
                j += 1
            piece = g.iloc[i:j + 1]
            towns = piece["village_code"].str[:9].nunique()
            limit = float(piece["limit"].max())
            if towns >= params.min_townships and piece["amount"].sum() >= limit:
                first = piece.iloc[0]
                shown = "；".join(f"{r.county} {r.village_code} {ymd(r.sign_date)} {r.contract_no} {wan(float(r.amount))}"
                                 for r in piece.itertuples())
                leads.append(Lead(
                    detector="cross_township_splits", detector_version="1", village_code=str(first.village_code),
                    score=round(min(0.9, 0.6 + 0.1 * len(piece)), 4), amount_at_risk=round(float(piece["amount"].sum()), 2),
                    title=f"跨乡镇拆分疑点：{first.vendor} {len(piece)} 份“{job}”合同分布在 {towns} 个乡镇，均略低于招标限额",
                    explanation=(f"“{first.vendor}”在 {params.split_window_days} 天内签订 {len(piece)} 份同类{cat}合同“{job}”，"
                                 f"分布在 {towns} 个乡镇（{piece['county'].nunique()} 个县）的不同村：{shown}。每份都在招标限额 "
                                 f"{wan(limit)} 的 {params.split_band:.0%} 以上、限额以下，合计 {wan(float(piece['amount'].sum()))}。"
                                 "各村单独看都不需招标，合在一起超过限额，存在跨村拆分规避招标的疑点，建议核对项目是否为同一工程。"),
                    evidence=[("contracts", str(x)) for x in piece["contract_no"]],
                    key=("split", str(who), str(job), ymd(first.sign_date)),
                    details=dict(counties=sorted(piece["county"].unique()), townships=int(towns),
                                 county_of={str(r.contract_no): r.county for r in piece.itertuples()}),
                ))
                i = j + 1
            else:
                i += 1
    return leads


def copy_evidence(counties: list[County], leads: list[Lead], engine: sa.Engine, run_id: int) -> int:
    """Copy the few records behind cross-county leads from the county warehouses into the province database, so
    the review page shows them."""
    from . import store
    from .contract import TABLES
    from .sources import FILE, ROW

    by_county: dict[tuple[str, str], list[str]] = {}
    for ld in leads:
        county_of = ld.details.get("county_of", {})
        for table, rid in ld.evidence:
            by_county.setdefault((county_of.get(rid, ""), table), []).append(rid)
    written = 0
    for c in counties:
        for table in ("claims", "contracts"):
            ids = sorted(set(by_county.get((c.name, table), [])))
            if not ids:
                continue
            rid = TABLES[table].record_id
            rows = []
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                marks = ", ".join(f":i{k}" for k in range(len(chunk)))
                rows.append(_read(c.db, f'SELECT * FROM wh_{table} WHERE "{rid}" IN ({marks})',
                                  {f"i{k}": x for k, x in enumerate(chunk)}))
            df = pd.concat(rows, ignore_index=True)
            keep = [col for col in TABLES[table].column_names if col in df]
            df = df[keep].copy()
            for col in TABLES[table].columns:
                if col.kind == "date" and col.name in df:
                    df[col.name] = pd.to_datetime(df[col.name], errors="coerce")
            df[FILE] = f"{c.name}:{c.db.rsplit('/', 1)[-1]}"
            df[ROW] = None
            written += store.load_warehouse(engine, table, df, run_id)
    return written

