"""低价出租/发包: collective assets and resources let far below comparable leases in the township.

Letting a fish pond, hill forest or workshop cheaply, often to a cadre's relative, moves collective income to a
private pocket without a single payment out of the books. Compares each lease's rent per unit and year with the
other leases of the same kind of asset in its township (the county when the township has too few).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, wan, ymd
from sanzi_audit.detectors.examples import V2, Example, V, contract


def _lease(no: str, rent_per_mu: float, village: str = V, qty: float = 20.0, years: int = 3,
           title: str = "东岸鱼塘承包") -> dict:
    """An example pond lease at ``rent_per_mu`` 元 per 亩 and year."""
    return contract(no, "2024-03-01", rent_per_mu * qty * years, "王五", title=title, category="资源发包",
                    village_code=village, vendor_id="330599198001010011", method="公开竞价", quantity=qty, unit="亩",
                    term_years=years)


class LeaseRentParams(Params):
    categories: tuple[str, ...] = Field(("资产租赁", "资源发包"), description="Contract categories that are leases")
    kinds: tuple[str, ...] = Field(
        ("厂房", "仓库", "店面", "商铺", "门面", "办公用房", "鱼塘", "水面", "山林", "林地", "耕地", "荒地", "果园"),
        description="Kinds of asset, matched in the contract title, that are compared only with their own kind")
    ratio: float = Field(0.5, gt=0, lt=1, description="Flag rent per unit and year below ratio × the comparables' "
                         "median")
    min_comparables: int = Field(3, ge=2, description="Comparable leases needed in the township before falling "
                                 "back to the county")


class LeaseRents(Detector):
    name = "lease_rents"
    version = "1.0"
    default_weight = 0.9
    title = "资产资源低价出租"
    scope = "population"  # a rent is compared with the township's median for its kind
    description = (
        "For leases (contract categories in `categories`) with a quantity and unit, computes rent per unit and year "
        "(amount / term_years / quantity; a missing term counts the amount as one year's rent, and says so), groups "
        "them by kind (keyword in the title, else the unit) and flags a lease whose rent is below ratio × the median "
        "of the other leases of its kind in its township — or in the county when the township has fewer than "
        "min_comparables. Notes when a lessee is a cadre or relative. Basis: 三资 rules require leases at a fair "
        "price through open bidding; cheap lets to insiders are a common 优亲厚友 pattern.")
    requires = ("contracts",)
    uses = ("officials", "ledger")
    views = ("official_labels",)
    Params = LeaseRentParams

    examples = (
        Example("鱼塘每亩年租 240元，本乡镇同类鱼塘 850–1,100元",
                {"contracts": [_lease(f"M{i}", r, V if i % 2 else V2) for i, r in enumerate([850, 900, 950, 1000, 1100])]
                 + [_lease("X", 240)]}, leads=1),
        Example("鱼塘每亩年租 700元：在行情低端，但不算异常",
                {"contracts": [_lease(f"M{i}", r, V if i % 2 else V2) for i, r in enumerate([850, 900, 950, 1000, 1100])]
                 + [_lease("X", 700)]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        c = data["contracts"]
        c = c[c["category"].isin(p.categories) & (c["quantity"] > 0) & (c["amount"] > 0)].copy()
        if c.empty:
            return []
        years = c["term_years"].where(c["term_years"] > 0)
        c["annual"] = c["amount"] / years.fillna(1.0)
        c["rent"] = c["annual"] / c["quantity"]
        title = c["title"].fillna("")
        c["kind"] = c["unit"].fillna("（未注明单位）")
        for k in reversed(p.kinds):  # the first keyword in `kinds` that the title contains wins
            c.loc[title.str.contains(k, regex=False), "kind"] = k
        c["unit_"] = c["unit"].fillna("单位")
        c["town"] = c["village_code"].str[:9]
        # the median of the *other* leases of the kind, in the township and in the county, for every lease at once;
        # only leases below ratio × one of them are looked at one by one
        town_med, town_n = _others_median(c, ["kind", "unit_", "town"])
        county_med, county_n = _others_median(c, ["kind", "unit_"])
        med = town_med.where(town_n >= p.min_comparables, county_med.where(county_n >= p.min_comparables))
        flagged = c[c["rent"] < p.ratio * med]
        if flagged.empty:
            return []
        insiders = data.official_labels
        receipts = self._receipts(data, set(flagged["contract_no"]))
        leads = []
        for (kind, unit), f in flagged.groupby(["kind", "unit_"], sort=True):
            g = c[(c["kind"] == kind) & (c["unit_"] == unit)]
            for r in f.itertuples():
                others = g[(g["town"] == r.town) & (g["contract_no"] != r.contract_no)]
                where = "本乡镇"
                if len(others) < p.min_comparables:
                    others, where = g[g["contract_no"] != r.contract_no], "全县"
                if len(others) < p.min_comparables:
                    continue
                med = float(others["rent"].median())
                if r.rent >= p.ratio * med:
                    continue
                term = r.term_years if r.term_years == r.term_years and r.term_years else None
                share = r.rent / med
                insider = insiders.get(r.vendor_id) if isinstance(r.vendor_id, str) else None
                shown = "、".join(f"{x.contract_no} {x.rent:,.0f}元" for x in others.nsmallest(5, "rent").itertuples())
                leads.append(self.lead(
                    village_code=r.village_code,
                    score=round(min(0.9, 0.5 + 0.5 * (1 - share / p.ratio) + (0.1 if insider else 0.0)), 4),
                    amount_at_risk=round((med - r.rent) * r.quantity * (term or 1.0), 2),
                    title=f"低价出租疑点：{r.title or r.contract_no} 每{unit}年租金 {r.rent:,.1f} 元，为{where}同类中位数的 {share:.0%}",
                    explanation=(f"{ymd(r.sign_date)} 签订的{r.category}合同 {r.contract_no}“{r.title or ''}”，承租/承包方"
                                 f"“{r.vendor or ''}”{'（' + insider + '）' if insider else ''}，{r.quantity:g}{unit}，"
                                 f"{'租期 ' + format(term, 'g') + ' 年，' if term else '未注明租期（按一年计），'}"
                                 f"合同金额 {wan(r.amount)}，折合每{unit}每年 {r.rent:,.1f} 元；{where}其他 {len(others)} 份"
                                 f"同类（{kind}）合同的中位数为 {med:,.1f} 元（较低的几份：{shown}），本合同仅为其 "
                                 f"{share:.0%}。可能低价出租或发包集体资产资源，建议核查发包程序、竞价记录和承租人身份；若经公开竞价且有决议，可据竞价记录排除。"),
                    evidence=[("contracts", r.contract_no)] + [("ledger", e) for e in receipts.get(r.contract_no, [])],
                    key=("lease", str(r.contract_no)),
                    details=dict(rent=round(float(r.rent), 2), median=round(med, 2), comparables=len(others),
                                 where=where, kind=kind, insider=insider),
                ))
        return leads

    @staticmethod
    def _receipts(data: DetectorInput, contracts: set[str]) -> dict[str, list[str]]:
        """The first ten income lines booked against each of ``contracts``."""
        if not data.has("ledger"):
            return {}
        led = data["ledger"]
        rec = led[led["contract_no"].isin(contracts) & (led["credit"].fillna(0) > 0)]
        return rec.groupby("contract_no").head(10).groupby("contract_no")["entry_id"].agg(list).to_dict()


def _others_median(c: pd.DataFrame, keys: list[str]) -> tuple[pd.Series, pd.Series]:
    """For each row, the median rent of the other rows of its group (leaving the row itself out) and how many
    others there are. In a group sorted by rent, leaving out the row at rank i shifts every later rank down by
    one, so the median of the rest is read straight from the sorted values."""
    s = c.sort_values([*keys, "rent"], kind="stable")
    vals = s["rent"].to_numpy(dtype="float64")
    g = s.groupby(keys, sort=False)
    rank = g.cumcount().to_numpy()
    size = g["rent"].transform("size").to_numpy()
    start = np.arange(len(s)) - rank
    m = size - 1  # how many others

    def at(j):  # the j-th smallest of the others
        j = np.clip(j, 0, None)
        return vals[np.clip(start + np.where(j < rank, j, j + 1), 0, max(len(vals) - 1, 0))]

    odd = at((m - 1) // 2)
    even = (at(m // 2 - 1) + at(m // 2)) / 2
    med = np.where(m <= 0, np.nan, np.where(m % 2 == 1, odd, even))
    return pd.Series(med, index=s.index).reindex(c.index), pd.Series(m, index=s.index).reindex(c.index)



