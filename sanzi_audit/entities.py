"""Entity resolution of payees, vendors and claimants across ledger, contracts and claims.

Keys, strongest first:
1. an identifier (居民身份证号 or 统一社会信用代码) on the row;
2. for organisations, the normalised name (full-width → half-width, traditional → simplified, no spaces or
   punctuation, 有限责任公司 → 有限公司, "(个体)" dropped, the county prefix dropped), joined to the one
   identifier seen with that name when there is exactly one;
3. for people without an identifier, the identifier of the one person with that name in the same village,
   or, failing that, the name within the village.

Names alone never merge people across villages, and two rows with different identifiers are never merged,
so the many 王伟 of a county stay different people. Bank accounts are *not* a merge key: one account under
several names is exactly what the shared-account detector looks for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import opencc
import pandas as pd

from . import chart
from .normalize import STR, on_distinct, to_halfwidth

_T2S = opencc.OpenCC("t2s")
_PUNCT = re.compile(r"[\s\(\)（）\[\]【】<>《》\-_.,，。、·:：;；'\"“”‘’/\\]+")
_ORG = re.compile(r"(?:公司|经营部|工程队|部|厂|店|站|社|局|中心|合作社|银行|所|院|队|场)$")
_SUFFIXES = [("有限责任公司", "有限公司"), ("股份有限公司", "有限公司"), ("个体工商户", ""), ("个体", "")]

COLUMNS = ["source", "record_id", "village_code", "name", "name_norm", "pid", "account", "amount", "entity"]



def make_normaliser(region_name: str | None):
    prefix = to_halfwidth(region_name or "")

    @on_distinct
    def normalise(s: pd.Series) -> pd.Series:
        def one(v):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                return None
            t = _T2S.convert(to_halfwidth(str(v)))
            t = _PUNCT.sub("", t)
            for a, b in _SUFFIXES:
                t = t.replace(a, b)
            if prefix and t.startswith(prefix) and len(t) > len(prefix) + 2:
                t = t[len(prefix):]
            return t or None

        return pd.Series([one(v) for v in s], dtype="object")

    return normalise


def unique_or_none(df: pd.DataFrame, keys: list[str] | str, col: str) -> pd.Series:
    """Per group, the one distinct value of ``col`` when there is exactly one; groups with several are left out.

    Vectorised: a Python lambda per group costs seconds on a county.
    """
    g = df.groupby(keys, sort=False)[col]
    n = g.nunique()
    return g.first()[n == 1]


def is_org(names: pd.Series) -> pd.Series:
    return names.fillna("").str.contains(_ORG)


@dataclass
class EntityIndex:
    """Entity key and display name for every payee-like row, by (source, record_id), with the row's amount (the
    payment's debit, the contract's or the claim's amount; 0 when missing)."""

    keys: pd.DataFrame  # COLUMNS; strings are pandas' Arrow-backed str, source is a category
    payments: int = 0  # the first rows of keys are data.payments, in its order
    _by_source: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, data) -> EntityIndex:
        norm = make_normaliser(data.config.region.name)
        parts = []
        if data.has("ledger"):
            p = data.payments
            parts.append(pd.DataFrame({"source": "ledger", "record_id": p["entry_id"], "village_code": p["village_code"],
                                       "name": p["counterparty"], "pid": p["counterparty_id"],
                                       "account": p["counterparty_account"], "amount": p["debit"]}))
        if data.has("contracts"):
            c = data["contracts"]
            parts.append(pd.DataFrame({"source": "contracts", "record_id": c["contract_no"],
                                       "village_code": c["village_code"], "name": c["vendor"], "pid": c["vendor_id"],
                                       "account": c["vendor_account"], "amount": c["amount"]}))
        if data.has("claims"):
            c = data["claims"]
            parts.append(pd.DataFrame({"source": "claims", "record_id": c["claim_id"], "village_code": c["village_code"],
                                       "name": c["claimant_name"], "pid": c["claimant_id"],
                                       "account": c["bank_account"], "amount": c["amount"]}))
        k = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if k.empty:
            return cls(pd.DataFrame({c: pd.Series(dtype="float64" if c == "amount" else STR) for c in COLUMNS}))
        # Arrow-backed strings throughout: a county has millions of payee rows, and Python str objects would cost
        # several times the memory (2.5 GB at 1,000 villages).
        for col in ("record_id", "village_code", "name", "pid", "account"):
            k[col] = k[col].astype(STR)
        k["source"] = k["source"].astype("category")
        k["amount"] = k["amount"].astype("float64").fillna(0.0)
        k["name_norm"] = norm(k["name"]).astype(STR)
        name, village = k["name_norm"], k["village_code"]
        entity = "id:" + k["pid"]

        # organisations: the name is the key, joined to its identifier when exactly one is known
        with_id = k.loc[(k["pid"].notna() & name.notna()).to_numpy(), ["village_code", "name_norm", "pid"]]
        org = entity.isna() & name.notna() & is_org(name)
        if org.any():
            org_name = name[org]
            org_ids = unique_or_none(with_id, "name_norm", "pid")
            entity[org] = ("id:" + org_name.map(org_ids).astype(STR)).fillna("org:" + org_name)

        # people without an identifier: the one known person of that name in the village
        person = entity.isna() & name.notna()
        if person.any():
            vn = unique_or_none(with_id, ["village_code", "name_norm"], "pid")
            idx = pd.MultiIndex.from_arrays([village[person], name[person]])
            known = pd.Series(vn.reindex(idx).to_numpy(), index=k.index[person]).astype(STR)
            entity[person] = ("id:" + known).fillna("name:" + village[person].fillna("") + ":" + name[person])
        k["entity"] = entity.fillna("unknown:" + k["source"].astype(STR) + ":" + k["record_id"].fillna(""))
        return cls(k[COLUMNS], payments=len(data.payments) if data.has("ledger") else 0)

    def of_payments(self, index: pd.Index, columns: list[str] | None = None) -> pd.DataFrame:
        """The index rows of ``data.payments`` rows, given their index labels (a filtered payments frame keeps
        them): label i is row i here, so no string lookup is needed. ``columns``: only these (each column taken
        costs a pass over the rows)."""
        pos = index.to_numpy()
        if len(pos) and (pos.min() < 0 or pos.max() >= self.payments):
            raise IndexError("of_payments takes index labels of data.payments")
        keys = self.keys if columns is None else self.keys[columns]
        return keys.iloc[pos].set_axis(index)

    def for_source(self, source: str) -> pd.DataFrame:
        """The rows of one source, indexed by record_id (computed once per source: several detectors ask)."""
        cached = self._by_source.get(source)
        if cached is None:
            cached = self._by_source[source] = self.keys[self.keys["source"] == source].set_index("record_id")
        return cached


def official_accounts(data) -> dict[str, tuple[str, ...]]:
    """Bank account → the person_ids (sorted) of the cadres or relatives whose own payments or subsidies use it.

    Ledger payments carrying an official's ID (their pay, their labour) and claims in their name tell which
    accounts are theirs. An account used by two officials (a cadre and his spouse) belongs to both, named in
    sorted order: no row order decides whose it is.
    """
    if not data.has("officials"):
        return {}
    ids = set(data["officials"]["person_id"].dropna())
    pairs = []
    pay = data.payments
    m = pay["counterparty_id"].isin(ids) & pay["counterparty_account"].notna()
    pairs.append(pd.DataFrame({"acct": pay.loc[m, "counterparty_account"], "pid": pay.loc[m, "counterparty_id"]}))
    if data.has("claims"):
        c = data["claims"]
        m = c["claimant_id"].isin(ids) & c["bank_account"].notna()
        pairs.append(pd.DataFrame({"acct": c.loc[m, "bank_account"], "pid": c.loc[m, "claimant_id"]}))
    both = pd.concat(pairs, ignore_index=True).astype(str).drop_duplicates()
    if both.empty:
        return {}
    both = both.sort_values(["acct", "pid"])
    return {acct: tuple(g) for acct, g in both.groupby("acct", sort=False)["pid"]}


def components(pairs) -> dict[str, str]:
    """Connected components of the (a, b) pairs: every node → the smallest node of its component (canonical, so a
    group's name never depends on the order the pairs came in)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


CONTRACT_NO = r"((?:HT|ht)?[A-Za-z]{0,4}\d{6,}[-\d]*)"


def contract_links(data) -> pd.Series:
    """Per row of ``data.payments`` (same index): the registered contract it pays, or NA.

    A payment pays a contract when it names it in its contract-number column; or cites it only in 摘要
    (支付HT…号合同第2期工程款); or, naming none, is one of the same payee's payments up to 400 days after signing
    that name the contract's work in 摘要 and fit its unpaid amount, or that together make that amount up exactly;
    or fits inside a tendered or resolved contract (公开招标, or a decision record) of the payee while its unpaid
    amount covers it (taken in date order). Such instalments are one job: not pieces of a split, not an
    uncontracted payment, not amounts kept under a limit.
    """
    pay = data.payments
    out = pd.Series(pd.NA, index=pay.index, dtype="object")
    if not data.has("contracts") or not len(data["contracts"]) or pay.empty:
        return out
    c = data["contracts"]
    registered = set(c["contract_no"].dropna())
    out = pay["contract_no"].where(pay["contract_no"].isin(registered))
    # Arrow's regex finds the few summaries that cite a number; Python's extract then runs on those alone
    summary = pay["summary"].fillna("")
    cites = summary.str.contains(r"\d{6}", regex=True).to_numpy(dtype=bool)  # CONTRACT_NO matches iff six digits
    cited = summary[cites].str.extract(CONTRACT_NO, expand=False).reindex(pay.index)
    out = out.fillna(cited.where(cited.isin(registered)))
    ce = data.entities.for_source("contracts")
    c = c.assign(entity=c["contract_no"].map(ce["entity"])).dropna(subset=["entity", "sign_date", "amount"])
    formal = (c["method"].fillna("") == "公开招标") | c["decision_ref"].notna()
    free = pay[out.isna() & pay["role"].isin(chart.TENDER_CATEGORY)]  # procurement: what a contract pays for
    if free.empty or c.empty:
        return out
    paid = (pay.loc[out.notna(), "debit"].groupby(out[out.notna()]).sum()
            .reindex(c["contract_no"]).fillna(0.0).to_dict())
    room: dict[tuple, list] = {}
    for r in c.assign(formal=formal).sort_values(["sign_date", "contract_no"]).itertuples():
        room.setdefault((r.village_code, r.entity), []).append(r)
    ent = data.entities.of_payments(free.index, ["entity"])["entity"]
    # only the columns the matching reads: slicing the whole payments frame per payee cost seconds
    free = (free[["village_code", "entry_date", "entry_id", "summary", "debit"]].assign(entity=ent)
            .sort_values(["entry_date", "entry_id"]))
    free = free[pd.MultiIndex.from_arrays([free["village_code"], free["entity"]]).isin(list(room))]
    if free.empty:
        return out
    # 1) any contract: the payee's unreferenced payments after signing that together make up its unpaid amount
    #    (to 1%) are its instalments ("payments that sum to one contract's amount belong to that contract")
    taken: set = set()
    found: dict = {}  # payment index → contract, written into ``out`` once at the end
    day = free["entry_date"].to_numpy(dtype="datetime64[D]")
    debit = free["debit"].to_numpy(dtype="float64")
    text = free["summary"].fillna("").astype("object").to_numpy()
    labels = free.index.to_numpy()
    for key, rows in free.groupby(["village_code", "entity"], sort=True).indices.items():
        free_here = np.ones(len(rows), dtype=bool)
        for k in room[key]:
            days = (day[rows] - np.datetime64(k.sign_date, "D")).astype("int64")
            cand = rows[(days >= 0) & (days <= 400) & free_here]
            due = k.amount - paid[k.contract_no]
            if not len(cand) or due <= 0:
                continue
            # the payments that name the contract's work in 摘要 (支付7组村委会办公楼维修工程第2期工程款), when
            # together they fit its unpaid amount; else all of the payee's payments when they make it up exactly
            work = work_of(k.title)
            named = cand[[work in text[x] for x in cand]] if work else cand[:0]
            if len(named) and float(debit[named].sum()) <= due + 0.01 * k.amount:
                cand = named
            elif abs(float(debit[cand].sum()) - due) > 0.01 * k.amount:
                continue
            found.update(dict.fromkeys(labels[cand], k.contract_no))
            paid[k.contract_no] += float(debit[cand].sum())
            taken.update(labels[cand])
            free_here[np.isin(rows, cand)] = False
    # 2) a tendered or resolved contract: each payment that still fits inside its unpaid amount, in date order
    for r in free[~free.index.isin(taken)].itertuples():
        for k in room[(r.village_code, r.entity)]:
            if not k.formal:
                continue
            days = (r.entry_date - k.sign_date).days
            if 0 <= days <= 400 and paid[k.contract_no] + r.debit <= k.amount * 1.01:
                paid[k.contract_no] += r.debit
                found[r.Index] = k.contract_no
                break
    if found:
        out = out.astype("object")
        out.loc[list(found)] = list(found.values())
    return out


def work_of(title) -> str:
    """'7组村委会办公楼维修工程' → '7组村委会办公楼维修': the words a payment's 摘要 repeats (at least 4 characters)."""
    if not isinstance(title, str):
        return ""
    t = re.sub(r"[（(].*?[）)]|工程$|项目$|合同$", "", title.strip())
    return t if len(t) >= 4 else ""


def voucher_lines(frame: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` (ledger lines, index kept) whose voucher — village_code and voucher_no — is one of
    ``keys``: a join, not a Python set of tuples per row."""
    k = keys[["village_code", "voucher_no"]].drop_duplicates()
    hit = frame[["village_code", "voucher_no"]].reset_index(names="_pos").merge(k, on=["village_code", "voucher_no"])
    return frame.loc[np.sort(hit["_pos"].to_numpy())]


def payments(data) -> pd.DataFrame:
    """Ledger debit lines that pay a named payee: accounts whose role pays someone (chart.PAYMENT_ROLES), in the
    row's chart. ``role`` and ``level1`` (the level-1 code) come with them."""
    led = data["ledger"]
    role = data.roles
    m = (led["debit"].fillna(0) > 0) & role.isin(chart.PAYMENT_ROLES)
    banked = data.has("bank") and data.bank_match is not None
    if not banked:
        m &= led["counterparty"].notna()
    out = led.loc[m].copy()
    out["role"] = role[m]
    out = out.reset_index(drop=True)
    if data.has("bank"):
        out["bank_txn"], out["bank_name"] = None, None
    if banked:
        from .bank import payment_rows

        paid = payment_rows(out, data.bank_match)
        out["bank_txn"] = paid["txn_id"].astype(STR)
        out["bank_name"] = paid["counterparty_name"].astype(STR)
        out["counterparty_account"] = out["counterparty_account"].fillna(paid["counterparty_account"]).astype(STR)
        # a line whose payee the export does not carry (付萧勇购买维修材料) is paid to the bank's counterparty
        unnamed = out["counterparty"].isna() & out["bank_name"].notna()
        if unnamed.any():
            out.loc[unnamed, "counterparty"] = out.loc[unnamed, "bank_name"]
            if "counterparty_source" in out:
                out.loc[unnamed, "counterparty_source"] = "bank"
        out = out[out["counterparty"].notna()].reset_index(drop=True)
    out["level1"] = chart.level1(out["account_code"], out["entry_date"], out["chart"] if "chart" in out else None)
    return out


def vouchers(data) -> pd.DataFrame:
    """See DetectorInput.vouchers. Voucher numbers are parsed once per distinct number."""
    led = data["ledger"]
    cols = ["village_code", "voucher_no", "entry_id", "entry_date", "summary"]
    first = led.drop_duplicates(["village_code", "voucher_no"])[cols]
    amount = led.groupby(["village_code", "voucher_no"])["debit"].sum()
    distinct = pd.Series(first["voucher_no"].astype("str").unique())
    parts = distinct.str.extract(r"^(?P<prefix>.*?)(?P<num>\d+)$").set_index(distinct)
    first = first.assign(prefix=first["voucher_no"].map(parts["prefix"]),
                         num=pd.to_numeric(first["voucher_no"].map(parts["num"]), errors="coerce"))
    first = first.join(amount.rename("amount"), on=["village_code", "voucher_no"])
    first = first[first["num"].notna()]
    return first.sort_values(["village_code", "prefix", "num"]).reset_index(drop=True)


def cash_movements(data) -> pd.DataFrame:
    """See DetectorInput.cash. Lines on 库存现金 (role cash: 101 in the village charts, 1001 in the enterprise one),
    each with what its voucher did with the cash."""
    led = data["ledger"]
    role = data.roles
    is_cash, is_bank = role == "cash", role == "bank"
    debit, credit = led["debit"].fillna(0.0), led["credit"].fillna(0.0)
    keys = [led["village_code"], led["voucher_no"]]
    bank_dr = (debit * is_bank).groupby(keys).transform("sum")
    bank_cr = (credit * is_bank).groupby(keys).transform("sum")
    cash = led.loc[is_cash, ["entry_id", "village_code", "voucher_no", "entry_date", "summary", "counterparty"]].copy()
    cash["amount"] = (debit - credit)[is_cash]
    cash["kind"] = np.select(
        [(cash["amount"] > 0) & (bank_cr[is_cash] > 0), cash["amount"] > 0,
         (cash["amount"] < 0) & (bank_dr[is_cash] > 0), cash["amount"] < 0],
        ["withdrawal", "receipt", "deposit", "payment"], "none")
    return cash.sort_values(["village_code", "entry_date", "voucher_no"], kind="stable").reset_index(drop=True)


__all__ = ["EntityIndex", "cash_movements", "contract_links", "is_org", "make_normaliser", "official_accounts", "payments",
           "voucher_lines", "work_of",
           "unique_or_none", "vouchers"]
