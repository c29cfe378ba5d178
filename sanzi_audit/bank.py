"""Ledger ↔ bank statement matching: which 银行存款 line of the books is which row of the bank's statement.

Every ledger line on a bank account (role ``bank``: 102 in the village charts, 1002/1012 in the enterprise one) is
matched to the bank row of the same village, direction and amount (to the fen) whose date is nearest, within
``bank.match_window_days`` (books are often kept a few days after the bank moved the money). What stays unmatched
is then matched in groups, the ways honest books summarise a statement:

- one ledger line for several bank rows of one day (cadre pay from one voucher, paid to each cadre);
- several ledger lines of one voucher for one bank row;
- one ledger line for a month's bank fees or interest (手续费, 结息), booked once.

A bank row left over is money the books do not show (账外收支); a ledger line left over, in a period the village's
statements cover, is a bank payment the bank never made (虚列). Transfers between a village's own accounts, and a
payment the bank returned (退汇) with its return, are not money leaving the collective and are marked as such.

Payments (``DetectorInput.payments``) then read the account the money really went to from the bank row of their
voucher: real ledgers seldom carry the payee's account, the bank statement always does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

FEES = re.compile(r"手续费|工本费|年费|短信|账户管理费|管理费|服务费|汇划费|结息|利息|息|电子汇划|网银|U盾|回单")
REVERSAL = re.compile(r"退汇|冲正|退回|退票|抹账|冲销|错账")
# a bank row's counterparty reads as the village itself (its own other account, cash over the counter)
OWN = re.compile(r"现金|取现|支取|存现|缴存|本行|内部户|同名")

MATCH_COLUMNS = ["entry_id", "txn_id", "how", "lag_days"]


@dataclass
class BankMatch:
    """The result of matching: pairs, and the rows of either side left over."""

    pairs: pd.DataFrame  # MATCH_COLUMNS: one row per (ledger line, bank row) pair; groups give several rows
    lines: pd.DataFrame  # the ledger's bank lines: entry_id, village_code, voucher_no, entry_date, dir, amount, summary
    bank: pd.DataFrame  # the bank rows: txn_id, village_code, txn_date, dir, amount, … , own (own-account / cash)
    covered: pd.DataFrame  # per village: first and last day of its bank statements, and of its books
    matched_lines: np.ndarray  # per row of ``lines``: matched
    matched_rows: np.ndarray  # per row of ``bank``: matched

    @property
    def unbooked(self) -> pd.DataFrame:
        """Bank rows no ledger line accounts for, inside the period the village's books cover (own-account
        transfers and returned payments left out)."""
        b = self.bank[~self.matched_rows & ~self.bank["own"].to_numpy(dtype=bool)
                      & ~self.bank["reversed"].to_numpy(dtype=bool)]
        cov = self.covered.reindex(b["village_code"])
        inside = ((b["txn_date"].to_numpy() >= cov["books_from"].to_numpy())
                  & (b["txn_date"].to_numpy() <= cov["books_to"].to_numpy()))
        return b[inside]

    def unbanked(self, grace_days: int) -> pd.DataFrame:
        """Ledger bank lines no bank row accounts for, dated inside the period the village's statements cover
        (``grace_days`` in from either end: a payment booked on the 31st may reach the bank after the period)."""
        ln = self.lines[~self.matched_lines]
        cov = self.covered.reindex(ln["village_code"])
        g = np.timedelta64(grace_days, "D")
        d = ln["entry_date"].to_numpy()
        inside = (d >= cov["bank_from"].to_numpy() + g) & (d <= cov["bank_to"].to_numpy() - g)
        return ln[inside]


def bank_lines(data) -> pd.DataFrame:
    """The ledger's lines on bank accounts, each with its direction, amount and the voucher's payee."""
    led = data["ledger"]
    is_bank = (data.roles == "bank").to_numpy()
    cols = ["entry_id", "village_code", "voucher_no", "entry_date", "summary"]
    ln = led.loc[is_bank, cols].copy()
    debit = led.loc[is_bank, "debit"].fillna(0.0).to_numpy(dtype=float)
    credit = led.loc[is_bank, "credit"].fillna(0.0).to_numpy(dtype=float)
    ln["dir"] = np.where(credit > 0, "out", "in")
    ln["amount"] = np.round(np.where(credit > 0, credit, debit), 2)
    ln = ln[ln["amount"] > 0]
    # the voucher's payee or payer: its first other line naming one
    other = led.loc[~is_bank & led["counterparty"].notna(), ["village_code", "voucher_no", "counterparty"]]
    party = other.drop_duplicates(["village_code", "voucher_no"]).set_index(["village_code", "voucher_no"])["counterparty"]
    ln["party"] = party.reindex(pd.MultiIndex.from_frame(ln[["village_code", "voucher_no"]])).to_numpy()
    return ln.reset_index(drop=True)


def bank_rows(data) -> pd.DataFrame:
    b = data["bank"]
    out_amt = b["amount_out"].fillna(0.0).to_numpy(dtype=float)
    in_amt = b["amount_in"].fillna(0.0).to_numpy(dtype=float)
    rows = b[["txn_id", "village_code", "account_no", "account_name", "txn_date", "summary", "purpose",
              "counterparty_name", "counterparty_account"]].copy()
    rows["dir"] = np.where(out_amt > 0, "out", "in")
    rows["amount"] = np.round(np.where(out_amt > 0, out_amt, in_amt), 2)
    rows = rows[rows["amount"] > 0]
    text = (rows["summary"].fillna("").astype("str") + " " + rows["purpose"].fillna("").astype("str"))
    own_accounts = set(b["account_no"].dropna().astype("str"))
    name = rows["counterparty_name"].fillna("").astype("str")
    rows["own"] = (rows["counterparty_account"].astype("str").isin(own_accounts)
                   | ((name != "") & (name == rows["account_name"].fillna("").astype("str")))
                   | (name.str.contains(OWN) & (rows["counterparty_account"].isna()))
                   | ((name == "") & text.str.contains(OWN)))
    rows["fee"] = text.str.contains(FEES)
    rows["reversed"] = _reversals(rows, text)
    return rows.reset_index(drop=True)


def _reversals(rows: pd.DataFrame, text: pd.Series, days: int = 5) -> pd.Series:
    """A payment the bank returned (退汇) and its return: an out and an in of one amount and counterparty
    account within ``days``, the in saying so."""
    out = pd.Series(False, index=rows.index)
    back = rows[(rows["dir"] == "in") & text.str.contains(REVERSAL)]
    if back.empty:
        return out
    paid = rows[rows["dir"] == "out"]
    key = ["village_code", "amount"]
    m = back.reset_index().merge(paid.reset_index(), on=key, suffixes=("_b", "_p"))
    lag = (m["txn_date_b"] - m["txn_date_p"]).dt.days
    same = (m["counterparty_account_b"].astype("str") == m["counterparty_account_p"].astype("str")) | \
        m["counterparty_account_b"].isna()
    m = m[(lag >= 0) & (lag <= days) & same].drop_duplicates("index_b").drop_duplicates("index_p")
    out[m["index_b"]] = True
    out[m["index_p"]] = True
    return out


def match(data, window_days: int = 7) -> BankMatch:
    lines, bank = bank_lines(data), bank_rows(data)
    lines["_li"] = np.arange(len(lines))
    bank["_bi"] = np.arange(len(bank))
    pairs: list[pd.DataFrame] = []
    # which rows are taken, by position: membership tests on Arrow strings cost seconds per pass at 300 villages
    used_l = np.zeros(len(lines), dtype=bool)
    used_b = np.zeros(len(bank), dtype=bool)

    def take(p: pd.DataFrame, how: str) -> None:
        if len(p):
            used_l[p["_li"].to_numpy(dtype="int64")] = True
            used_b[p["_bi"].to_numpy(dtype="int64")] = True
            pairs.append(p.assign(how=how)[MATCH_COLUMNS])

    def fees(only_fee_lines: bool) -> None:
        """A month's fees or interest booked once, in the month or within the window after it."""
        rest_b = bank[~used_b & bank["fee"].to_numpy(dtype=bool)]
        rest_l = lines[~used_l]
        if only_fee_lines:
            rest_l = rest_l[rest_l["summary"].fillna("").str.contains(FEES)]
        if rest_b.empty or rest_l.empty:
            return
        rest_b = rest_b.assign(month=rest_b["txn_date"].dt.to_period("M"))
        g = rest_b.groupby(["village_code", "dir", "month"], sort=False).agg(
            amount=("amount", "sum"), ids=("txn_id", list), bis=("_bi", list), last=("txn_date", "max")).reset_index()
        g["amount"] = g["amount"].round(2)
        cand = rest_l.merge(g, on=["village_code", "dir", "amount"])
        lag = (cand["entry_date"] - cand["last"]).dt.days
        first, last = cand["month"].dt.start_time, cand["month"].dt.end_time.dt.normalize()
        cand = cand[(cand["entry_date"] >= first) & ((cand["entry_date"] - last).dt.days <= window_days)]
        cand = cand.drop_duplicates("entry_id").drop_duplicates(["village_code", "dir", "month"])
        cand = cand.assign(lag_days=lag.reindex(cand.index)).explode(["ids", "bis"]).rename(
            columns={"ids": "txn_id", "bis": "_bi"})
        take(cand, "fees_of_month")

    # 0) the books' fee lines (支付3月银行手续费) against the month's fee rows, before single fee rows pair by chance
    fees(only_fee_lines=True)

    # 1) one to one: same village, direction and amount, nearest date within the window
    cand = lines[~used_l].merge(bank[~used_b], on=["village_code", "dir", "amount"], suffixes=("", "_b"))
    cand["lag_days"] = (cand["entry_date"] - cand["txn_date"]).dt.days
    cand = cand[cand["lag_days"].abs() <= window_days]
    take(_greedy(cand), "exact")

    # 2) one ledger line for several bank rows of one day (all the day's rows of that direction, or those of one
    #    摘要), or several lines of one voucher for one bank row
    for keys in (["village_code", "dir", "txn_date"], ["village_code", "dir", "txn_date", "summary"]):
        rest_b, rest_l = bank[~used_b], lines[~used_l]
        if rest_b.empty or rest_l.empty:
            break
        take(_group_bank(rest_l, rest_b, keys, window_days), "bank_rows_summed")
    rest_b, rest_l = bank[~used_b], lines[~used_l]
    if len(rest_b) and len(rest_l):
        g = rest_l.groupby(["village_code", "voucher_no", "dir"], sort=False).agg(
            amount=("amount", "sum"), entry_date=("entry_date", "first"), ids=("entry_id", list), lis=("_li", list),
            n=("entry_id", "size")).reset_index()
        g = g[g["n"] > 1]
        g["amount"] = g["amount"].round(2)
        cand = g.merge(rest_b, on=["village_code", "dir", "amount"])
        cand["lag_days"] = (cand["entry_date"] - cand["txn_date"]).dt.days
        cand = cand[cand["lag_days"].abs() <= window_days]
        cand = cand.sort_values(["lag_days", "txn_id"], key=lambda s: s.abs() if s.name == "lag_days" else s)
        cand = cand.drop_duplicates("txn_id").drop_duplicates(["village_code", "voucher_no", "dir"])
        take(cand.explode(["ids", "lis"]).rename(columns={"ids": "entry_id", "lis": "_li"}), "ledger_lines_summed")

    # 3) fee months once more, whatever the line's 摘要 says
    fees(only_fee_lines=False)

    out = pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame(columns=MATCH_COLUMNS)
    return BankMatch(out, lines.drop(columns="_li"), bank.drop(columns="_bi"), _coverage(data), used_l, used_b)


def _greedy(cand: pd.DataFrame) -> pd.DataFrame:
    """One-to-one pairs from candidates, nearest date first (ties: ids in order), each side used once."""
    if cand.empty:
        return cand
    # the same party on both sides first (the ledger's payee is the bank's counterparty, or neither names one:
    # a cash withdrawal), then books dated on or after the bank's day (books follow the bank), then the nearest
    party, name = cand["party"].astype("object"), cand["counterparty_name"].astype("object")
    agree = (party == name) | (party.isna() & name.isna())
    cand = cand.assign(_g=~agree.fillna(False).astype(bool), _n=cand["lag_days"] < 0,
                       _a=cand["lag_days"].abs()).sort_values(["_g", "_n", "_a", "entry_id", "txn_id"])
    # most candidates are unique on both sides: settle those at once, loop only over the contested ones
    dl, db = cand["entry_id"].duplicated(keep=False), cand["txn_id"].duplicated(keep=False)
    sure = cand[~dl & ~db]
    rest = cand[dl | db]
    taken_l, taken_b, keep = set(), set(), []
    for i, e, t in zip(rest.index, rest["entry_id"], rest["txn_id"], strict=True):
        if e in taken_l or t in taken_b:
            continue
        taken_l.add(e)
        taken_b.add(t)
        keep.append(i)
    return pd.concat([sure, rest.loc[keep]]).drop(columns=["_a", "_g", "_n"])


def _group_bank(lines: pd.DataFrame, bank: pd.DataFrame, keys: list[str], window: int) -> pd.DataFrame:
    g = bank.groupby(keys, sort=False, dropna=False).agg(amount=("amount", "sum"), ids=("txn_id", list),
                                                         bis=("_bi", list), n=("txn_id", "size")).reset_index()
    g = g[g["n"] > 1]
    if g.empty:
        return pd.DataFrame(columns=MATCH_COLUMNS)
    g["amount"] = g["amount"].round(2)
    cand = lines.merge(g, on=["village_code", "dir", "amount"], suffixes=("", "_g"))
    cand["lag_days"] = (cand["entry_date"] - cand["txn_date"]).dt.days
    cand = cand[cand["lag_days"].abs() <= window]
    cand = cand.assign(_a=cand["lag_days"].abs()).sort_values(["_a", "entry_id"])
    cand = cand.drop_duplicates("entry_id")
    cand = cand[~cand["ids"].map(tuple).duplicated()]
    return cand.explode(["ids", "bis"]).drop(columns=["txn_id", "_bi"], errors="ignore").rename(
        columns={"ids": "txn_id", "bis": "_bi"})


def _coverage(data) -> pd.DataFrame:
    led = data["ledger"]
    books = led.groupby("village_code")["entry_date"].agg(books_from="min", books_to="max")
    b = data["bank"].groupby("village_code")["txn_date"].agg(bank_from="min", bank_to="max")
    return books.join(b, how="outer")


def payment_rows(pay: pd.DataFrame, m: BankMatch) -> pd.DataFrame:
    """Per row of the payments ``pay`` (same index): the bank row that paid it (txn_id, counterparty_name,
    counterparty_account), where its voucher's bank line was matched.

    A voucher paid by one bank row gives that row to each of its payments; a voucher paid by several gives each
    payment the row of its amount, else the one row whose counterparty is the payment's payee by name."""
    cols = ["txn_id", "counterparty_name", "counterparty_account"]
    out = pd.DataFrame({c: pd.Series(pd.NA, index=pay.index, dtype="object") for c in cols})
    if pay.empty or m.pairs.empty:
        return out
    out_pairs = m.pairs.merge(m.lines[["entry_id", "village_code", "voucher_no", "dir"]], on="entry_id")
    out_pairs = out_pairs[out_pairs["dir"] == "out"]
    rows = out_pairs.merge(m.bank[["txn_id", "amount", *cols[1:]]], on="txn_id").drop_duplicates(
        ["village_code", "voucher_no", "txn_id"])
    if rows.empty:
        return out
    per_voucher = rows.groupby(["village_code", "voucher_no"], sort=False)["txn_id"].transform("size")
    single = rows[per_voucher == 1].set_index(["village_code", "voucher_no"])
    key = pd.MultiIndex.from_frame(pay[["village_code", "voucher_no"]])
    hit = single.reindex(key)
    for c in cols:
        out[c] = hit[c].to_numpy()
    many = rows[per_voucher > 1]
    if len(many):
        # several bank rows for one voucher: the row of the payment's amount where that amount is the voucher's
        # only one of its size, else the row naming the payment's payee (a name wins where both say)
        p = pay[["village_code", "voucher_no", "debit", "counterparty"]].reset_index()
        p["amount"] = p["debit"].round(2)
        unique_amt = many.groupby(["village_code", "voucher_no", "amount"])["txn_id"].transform("size") == 1
        by_amount = p.merge(many[unique_amt], on=["village_code", "voucher_no", "amount"]).drop_duplicates("index")
        by_name = p.merge(many, left_on=["village_code", "voucher_no", "counterparty"],
                          right_on=["village_code", "voucher_no", "counterparty_name"]).drop_duplicates("index")
        for hits in (by_amount, by_name):
            if len(hits):
                for c in cols:
                    out.loc[hits["index"].to_numpy(), c] = hits[c].to_numpy()
    return out


__all__ = ["BankMatch", "FEES", "REVERSAL", "bank_lines", "bank_rows", "match", "payment_rows"]
