"""租金逾期未收 and 合同到期未续: leases whose rent did not arrive, and leases that ended but are still paid on."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.examples import Example, bank_receipt, books_of_2024, lease
from sanzi_audit.entities import make_normaliser

from .base import Detector, DetectorInput, Lead, Params, wan, ymd

_INCOME = ("income_operating", "income_lease", "income_other", "payable", "receivable", "internal")


class LeaseOverdueParams(Params):
    grace_days: int = Field(90, ge=0, description="Rent counts as overdue this many days after its due date "
                            "(鄞州: 3 months → yellow; 萧山: 2 months → red)")
    early_days: int = Field(60, ge=0, description="Rent received up to this many days before the due date pays it")
    share: float = Field(0.9, gt=0, le=1, description="A year's rent counts as paid when this share of it arrived")
    after_end_days: int = Field(30, ge=0, description="A receipt this long after the contract's end is rent of an "
                                "expired contract")


def _anniversaries(start: pd.Timestamp, end: pd.Timestamp, rent: float) -> list[tuple]:
    """A year's rent due on each anniversary of the start before the end (at most 60 years)."""
    out = []
    for n in range(60):
        due = start + pd.DateOffset(years=n)
        if due >= end:
            break
        out.append((due, rent, f"第 {n + 1} 年"))
    return out


class LeaseOverdue(Detector):
    name = "lease_overdue"
    version = "1.0"
    title = "租金逾期未收"
    description = (
        "For each lease or 发包 with an annual rent, takes the due dates of its payment schedule (contract_terms) or, "
        "without one, the start date's anniversaries, "
        "that fall inside the period the books cover, and looks for that year's rent among the ledger's receipts "
        "citing the contract (contract_no, or its number in 摘要) or from the lessee: a due date with less than share "
        "of the rent received from early_days before to grace_days after is overdue (应收未收, a red alert of 鄞州 and "
        "萧山). Receipts from a contract after its end date show a lease that expired and was not renewed (到期未续签 "
        "仍在使用); a new contract of the same lessee and title signed by then is a renewal, not a lead.")
    requires = ("contracts", "ledger")
    uses = ("contract_terms",)
    views = ("roles",)
    Params = LeaseOverdueParams

    examples = (
        Example("2024-05-01 应收第二年租金 1.2万元，到年底未见收款",
                {"contracts": [lease("L1", "2023-05-01", 3, 12000, vendor="甲")],
                 "ledger": books_of_2024()}, leads=1),
        Example("租金晚收 25 天（在宽限期内）",
                {"contracts": [lease("L2", "2023-05-01", 3, 12000, vendor="乙")],
                 "ledger": books_of_2024() + bank_receipt("V2", "2024-05-26", 12000.0, "乙")}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        c = data["contracts"]
        schedule: dict[str, list[tuple]] = {}
        if data.has("contract_terms"):
            t = data["contract_terms"].dropna(subset=["due_date", "amount_due"]).sort_values(["contract_no", "due_date"])
            for cno, g in t.groupby("contract_no", sort=False):
                schedule[cno] = list(zip(g["due_date"], g["amount_due"], g["period"], strict=True))
        c = c[(c["annual_rent"].notna() & (c["annual_rent"] > 0)) | c["contract_no"].isin(schedule)]
        if c.empty or data["ledger"].empty:
            return []
        led = data["ledger"]
        role = data.roles
        rec = led[(led["credit"].fillna(0) > 0) & role.isin(_INCOME).to_numpy()]
        norm = make_normaliser(data.config.region.name)
        cited = rec["summary"].fillna("").str.extract(r"((?:HT|ht)?[A-Za-z]{0,4}\d{6,}[-\d]*)", expand=False)
        rec = rec.assign(cno=rec["contract_no"].fillna(cited), who=norm(rec["counterparty"]).to_numpy())
        c = c.assign(start=c["start_date"].fillna(c["sign_date"]), who=norm(c["vendor"]).to_numpy())
        years = c["term_years"].fillna(((c["end_date"] - c["start"]).dt.days / 365.25).round())
        c = c.assign(end=c["end_date"].fillna(c["start"] + pd.to_timedelta((years.fillna(1) * 365.25).astype(int),
                                                                           unit="D")))
        cover = led.groupby("village_code")["entry_date"].agg(["min", "max"])
        # receipts as arrays, positions by contract and by lessee: a pandas slice per lease cost seconds
        rec = rec.reset_index(drop=True)
        r_day = rec["entry_date"].to_numpy(dtype="datetime64[D]")
        r_amt = rec["credit"].to_numpy(dtype="float64")
        r_village = rec["village_code"].astype("object").to_numpy()
        none = np.zeros(0, dtype="int64")
        by_cno = rec.groupby("cno", sort=False).indices  # positions in rec (rows without a number drop out)
        loose = rec.assign(loose=rec["who"].astype("object").where(rec["cno"].isna()))
        by_who = loose.groupby(["village_code", "loose"], sort=False).indices
        day = np.timedelta64(1, "D")
        leads = []
        for k in c.sort_values(["village_code", "contract_no"]).itertuples():
            if k.village_code not in cover.index:
                continue
            lo, hi = cover.loc[k.village_code, "min"], cover.loc[k.village_code, "max"]
            a = by_cno.get(k.contract_no, none)
            a = a[r_village[a] == k.village_code]
            mine = np.concatenate([a, by_who.get((k.village_code, k.who), none)])
            dues = []
            # the contract's schedule when the county supplies one, else a year's rent on each anniversary
            plan = schedule.get(k.contract_no) or _anniversaries(k.start, k.end, float(k.annual_rent))
            latest, earliest = hi - pd.Timedelta(days=p.grace_days), lo + pd.Timedelta(days=p.early_days)
            for due, amount, period in plan:
                if due > latest or due < earliest:
                    continue  # the books do not show the whole payment window
                d = np.datetime64(pd.Timestamp(due).date(), "D")
                inside = (r_day[mine] >= d - p.early_days * day) & (r_day[mine] <= d + p.grace_days * day)
                got = float(r_amt[mine][inside].sum())
                if got < p.share * float(amount):
                    dues.append((pd.Timestamp(due), got, float(amount), period))
            late = mine[r_day[mine] > np.datetime64(k.end.date(), "D") + p.after_end_days * day]
            if len(late):
                renewed = c[(c["village_code"] == k.village_code) & (c["who"] == k.who) & (c["contract_no"] != k.contract_no)
                            & (c["sign_date"] >= k.end - pd.Timedelta(days=90))]
                if len(renewed):
                    late = none
            if not dues and not len(late):
                continue
            after = rec.iloc[late]
            parts, owed = [], 0.0
            if dues:
                owed = sum(amount - got for _, got, amount, _ in dues)
                parts.append("；".join(f"{ymd(d)} 应收{period or ''}款项 {wan(amount)}，至 {ymd(d + pd.Timedelta(days=p.grace_days))} "
                                      f"仅收到 {wan(got)}" for d, got, amount, period in dues))
            if len(after):
                parts.append(f"合同已于 {ymd(k.end)} 到期，此后仍收到 {len(after)} 笔款项 {wan(float(after['credit'].sum()))}"
                             f"（首笔 {ymd(after['entry_date'].min())}），未见续签合同")
            kind = "租金逾期未收" if dues else "合同到期未续签"
            evidence = [("contracts", k.contract_no)] + [("ledger", e) for e in after["entry_id"]]
            leads.append(self.lead(
                village_code=k.village_code, score=round(min(0.85, 0.55 + (0.1 if dues and len(after) else 0.0)
                                                          + 0.05 * min(3, len(dues))), 4),
                amount_at_risk=round(owed if dues else float(after["credit"].sum()), 2),
                title=f"{kind}疑点：{k.title or k.contract_no}（{k.vendor or ''}）",
                explanation=(f"合同 {k.contract_no}（{k.title or ''}，承租方 {k.vendor or ''}，"
                             + (f"年租金 {wan(float(k.annual_rent))}，" if k.annual_rent == k.annual_rent and k.annual_rent else "")
                             + f"{ymd(k.start)} 至 {ymd(k.end)}）: " + "；".join(parts) + "。租金应收未收可能是优亲厚友减免、"
                             "截留或账外收取，到期未续签仍在使用可能是私下续租，建议核对收款收据和银行流水；若租金已以现金收取"
                             "另行入账、经民主决策同意缓交，或已续签合同未登记，可据凭证和决议排除。"),
                evidence=evidence, key=("lease_due", str(k.contract_no)),
                details=dict(overdue_years=len(dues), after_end=int(len(after)))))
        return leads

