"""往来款长期挂账: receivables and payables with a counterparty that have not moved for two years."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sanzi_audit.detectors.examples import Example, V

from .base import Detector, DetectorInput, Lead, Params, wan, ymd

_ROLES = ("receivable", "internal", "payable")


def _line(eid: str, date: str, account: str, debit: float, credit: float, who: str) -> dict:
    return dict(entry_id=eid, village_code=V, voucher_no=eid, line_no="1", entry_date=date, account_code=account,
                debit=debit, credit=credit, counterparty=who, summary="往来")


class StaleBalanceParams(Params):
    years: float = Field(2.0, gt=0, description="A balance unmoved for this many years before the books' last day "
                         "is stale (audit model: 两年余额无变化)")
    min_amount: float = Field(5000.0, ge=0, description="Balances below this (元) are left out")


class StaleBalances(Detector):
    name = "stale_balances"
    version = "1.0"
    title = "往来款长期挂账"
    description = (
        "Sums the village's receivables and payables (应收款, 内部往来, 应付款) per counterparty over all the books "
        "loaded, and flags a balance of at least min_amount whose last movement is more than `years` before the books' "
        "last day. Money owed to the collective and never collected (a cadre's or a relative's IOU, 白条抵库), or a "
        "payable that is never paid (虚挂应付, a reserve for later withdrawals), sits in these accounts; the audit model "
        "flags 往来款两年余额无变化 (in one township 应收款 were 37.85% of assets). Balances carried in by opening "
        "entries before the first loaded year are not seen: the rule needs the years loaded.")
    requires = ("ledger",)
    views = ("roles",)
    Params = StaleBalanceParams

    examples = (
        Example("2021 年借给王五 3万元，之后三年多没有任何变动",
                {"ledger": [_line("A1", "2021-03-01", "112001", 30000.0, 0.0, "王五"),
                            _line("Z1", "2024-12-31", "513001", 100.0, 0.0, "演示县某商店")]}, leads=1),
        Example("2021 年借出，2022 年已还清",
                {"ledger": [_line("B1", "2021-03-01", "112001", 20000.0, 0.0, "赵六"),
                            _line("B2", "2022-01-10", "112001", 0.0, 20000.0, "赵六"),
                            _line("Z1", "2024-12-31", "513001", 100.0, 0.0, "演示县某商店")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        led = data["ledger"]
        if led.empty:
            return []
        role = data.roles
        m = role.isin(_ROLES).to_numpy() & led["counterparty"].notna().to_numpy()
        lines = led.loc[m, ["entry_id", "village_code", "entry_date", "account_code", "counterparty", "debit",
                            "credit"]].assign(role=role[m].to_numpy())
        if lines.empty:
            return []
        lines["net"] = lines["debit"].fillna(0.0) - lines["credit"].fillna(0.0)
        side = np.where(lines["role"] == "payable", "payable", "receivable")
        lines["side"] = side
        end = led.groupby("village_code")["entry_date"].max()
        g = lines.groupby(["village_code", "side", "counterparty"], sort=True)
        stats = g.agg(balance=("net", "sum"), last=("entry_date", "max"), first=("entry_date", "min"),
                      lines=("entry_id", "size"))
        stats["end"] = stats.index.get_level_values("village_code").map(end)
        stale = stats[(stats["balance"].abs() >= self.params.min_amount)
                      & ((stats["end"] - stats["last"]).dt.days > 365.25 * self.params.years)]
        members = g.indices  # the lines of each balance, found once rather than by a scan per lead
        entry = lines["entry_id"].to_numpy()
        leads = []
        for (village, side, who), r in stale.iterrows():
            ids = entry[members[(village, side, who)]]
            owed = abs(float(r["balance"]))
            kind = "应收" if side == "receivable" else "应付"
            years = (r["end"] - r["last"]).days / 365.25
            leads.append(self.lead(
                village_code=village, score=round(min(0.8, 0.5 + 0.05 * min(4, years - self.params.years)), 4),
                amount_at_risk=owed,
                title=f"往来款长期挂账疑点：{who} {kind}余额 {wan(owed)}，{years:.1f} 年未变动",
                explanation=(f"{who} 在{kind}类科目的余额为 {wan(owed)}，最后一次变动在 {ymd(r['last'])}，至账簿截止 "
                             f"{ymd(r['end'])} 已 {years:.1f} 年未变动（{int(r['lines'])} 笔分录）。长期挂账的应收款可能是无法收回"
                             "或被个人占用的集体资金，应付款可能是虚挂，建议核对原始借据、合同和对账记录，按规定清理；若为有诉讼"
                             "或分期协议的债权债务，可据协议排除。"),
                evidence=[("ledger", e) for e in ids], key=("stale", side, str(who)),
                details=dict(side=side, years=round(years, 1))))
        return leads

