"""Bank statements for the synthetic county (``sanzi synth --bank``), with the money the books do not show.

Each village has a 基本户 whose statement holds a row for every ledger line on 银行存款, as a bank would show it:
- the bank moves the money up to a few days before the books record it;
- a voucher paying several cadres is several transfers; a month's fees are several small rows the books sum once;
- the counterparty is the account holder, whoever the ledger names as payee.

Some villages also have a 专户, with transfers to and fro that the books leave out, and a payment the bank returned
(退汇) and paid again. These are honest look-alikes.

Injected, with truth:
- ``bank_unbooked_payment`` (账外支出): transfers out with no ledger line;
- ``bank_unbooked_receipt`` (账外收入): rent or fees received, never booked;
- ``ledger_unbanked`` (虚列支出): a booked bank payment the bank never made;
- ``bank_round_trip``: money out to a person and back within weeks, off the books;
- ``bank_payee_mismatch`` (see ``Injector.bank_payee_mismatch``): labour booked under a villager's name, paid to
  a cadre relative's account.

With statements written, the ledger's ``counterparty_account`` is emptied, as real ledgers seldom carry it.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd

BANK_RATES = {"bank_unbooked_payment": 0.12, "bank_unbooked_receipt": 0.10, "ledger_unbanked": 0.10,
              "bank_round_trip": 0.08, "bank_payee_mismatch": 0.10}
BANK_LOOKALIKES = {"own_transfer_lookalike": 0.3, "returned_payment_lookalike": 0.3,
                   "household_payee_lookalike": 0.3}
FEE_WORDS = ("手续费", "汇划费", "账户管理费", "短信服务费")


def fee_voucher(books, village, rng: np.random.Generator, month: int) -> None:
    """A month's bank fees, booked once at the month's end; the statement shows the pieces."""
    pieces = [round(float(rng.choice([2, 5, 8, 10, 15, 20, 30])), 2) for _ in range(int(rng.integers(2, 5)))]
    total = round(sum(pieces), 2)
    end = (dt.date(books.year, month, 28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    vo = books.add_voucher(village, end, [
        dict(account_code="513008", summary=f"支付{month}月银行手续费",
             debit=total, credit=0.0, counterparty="演示县农村商业银行", settlement="转账"),
        dict(account_code="102001", summary=f"支付{month}月银行手续费", debit=0.0, credit=total, settlement="转账")])
    books.bank_fees[vo.key] = [(dt.date(books.year, month, int(d)), x)
                               for d, x in zip(rng.integers(1, end.day + 1, len(pieces)), pieces, strict=True)]


class Statements:
    """Builds the statement rows from the numbered ledger, then plants the bank patterns."""

    def __init__(self, rng: np.random.Generator, year: int, holders: dict[str, str], villages, books,
                 key_to_ids: dict, truth_ids: set[str], rates: dict[str, float] | None = None):
        self.rng, self.year, self.holders, self.villages, self.books = rng, year, holders, villages, books
        self.rates = rates if rates is not None else BANK_RATES
        self.key_to_ids = key_to_ids
        self.rows: list[dict] = []
        self.truth: list[tuple] = []
        self.lookalikes: list[tuple] = []
        self.counter: dict[str, int] = {}
        self.accounts: dict[str, str] = {}  # village → 基本户
        self.names: dict[str, str] = {}
        self.truth_ids = truth_ids  # ledger entry ids already in another pattern's truth
        self.holders_rev: dict[str, str] = {}
        self.removed: set[int] = set()

    def case(self, kind: str) -> str:
        n = self.counter.get(kind, 0) + 1
        self.counter[kind] = n
        return f"{kind}-{n:04d}"

    def _acct(self, code: str, kind: str = "基本户") -> str:
        digits = "".join(str(int(x)) for x in self.rng.integers(0, 10, 11))
        return f"201{code[6:12]}{digits}"[:19] if kind == "基本户" else f"202{code[6:12]}{digits}"[:19]

    def row(self, village: str, day: dt.date, out: float, inn: float, name, account, summary: str,
            purpose: str | None = None, acct: str | None = None) -> dict:
        r = dict(village_code=village, account_no=acct or self.accounts[village],
                 account_name=self.names[village], txn_date=day, txn_time=None, summary=summary,
                 amount_out=round(out, 2) if out else None, amount_in=round(inn, 2) if inn else None,
                 counterparty_name=name, counterparty_account=account,
                 counterparty_bank="演示县农村商业银行" if account else None,
                 purpose=purpose)  # serial numbers are given in statement order, by frame()
        self.rows.append(r)
        return r

    def _lag(self, d: dt.date) -> dt.date:
        u = self.rng.random()
        lag = 0 if u < 0.72 else int(self.rng.integers(1, 4)) if u < 0.95 else int(self.rng.integers(4, 7))
        out = d - dt.timedelta(days=lag)
        return out if out.year == d.year else d

    def build(self, ledger: pd.DataFrame) -> None:
        for v in self.villages:
            self.accounts[v.code] = self._acct(v.code)
            self.names[v.code] = f"{v.name}股份经济合作社"
        fees = {self.key_to_ids[(k, 0)].rsplit("-", 1)[0]: p for k, p in self.books.bank_fees.items()}
        self.by_voucher: dict[str, list[dict]] = {}
        truth_ids = self.truth_ids
        honest: dict[str, list[str]] = {}  # village → vouchers of one person paid from the bank, not in the truth
        cols = ["entry_id", "village_code", "voucher_no", "account_code", "summary", "debit", "credit", "counterparty",
                "counterparty_account", "counterparty_id", "entry_date"]
        vouchers: dict[tuple, list[dict]] = {}
        for r in ledger[cols].to_dict("records"):  # plain records: a pandas slice per voucher cost a minute
            vouchers.setdefault((r["village_code"], r["voucher_no"]), []).append(r)

        def has(v) -> bool:
            return v is not None and v == v

        for (village, vno) in sorted(vouchers):
            g = vouchers[(village, vno)]
            bl = [r for r in g if str(r["account_code"]).startswith("102")]
            if not bl:
                continue
            vid = f"{village}-{vno}"
            rest = [r for r in g if not str(r["account_code"]).startswith("102")]
            payees = [r for r in rest if has(r["counterparty"]) and (r["debit"] or 0) > 0]
            made: list[dict] = []
            for b in bl:
                out, inn = float(b["credit"] or 0), float(b["debit"] or 0)
                day = self._lag(b["entry_date"])
                if vid in fees and out:
                    for d, piece in fees[vid]:
                        made.append(self.row(village, d, piece, 0, None, None, str(self.rng.choice(FEE_WORDS))))
                    continue
                if out and "备用金" in str(b["summary"]):
                    made.append(self.row(village, day, out, 0, None, None, "现金支取", "备用金"))
                    continue
                if out and len({p["counterparty"] for p in payees}) > 1:  # one transfer per payee
                    for p in payees:
                        acct = p["counterparty_account"]
                        made.append(self.row(village, day, float(p["debit"]), 0, self._holder(acct, p["counterparty"]),
                                             acct, "代发" if "报酬" in str(b["summary"]) else "转账支出", b["summary"]))
                    continue
                if out:
                    first = payees[0] if payees else None
                    name = None if first is None else first["counterparty"]
                    acct = None if first is None else first["counterparty_account"]
                    if not has(acct):
                        acct = self._pseudo(name)
                    made.append(self.row(village, day, out, 0, self._holder(acct, name), acct, "转账支出",
                                         b["summary"]))
                    if first is not None and len(g) == 2 and g[0]["entry_id"] not in truth_ids \
                            and has(first["counterparty_id"]) and out >= 800 \
                            and str(first["account_code"]).startswith(("213", "513")):
                        honest.setdefault(village, []).append(vid)
                    continue
                payer = [r["counterparty"] for r in rest if has(r["counterparty"])]
                name = payer[0] if payer else None
                made.append(self.row(village, day, 0, inn, name, self._pseudo(name), "转账收入", b["summary"]))
            self.by_voucher[vid] = made
        self.honest = honest

    def _holder(self, acct, ledger_name):
        if isinstance(acct, str) and acct in self.holders:
            return self.holders[acct]
        return ledger_name

    def _pseudo(self, name) -> str | None:
        if not isinstance(name, str) or not name:
            return None
        h = int(hashlib.sha1(name.encode("utf-8")).hexdigest()[:12], 16) % 10**13
        return self.holders_rev.setdefault(name, f"33{h:013d}")

    # ---- patterns -------------------------------------------------------------------------------------------
    def plant(self, ledger: pd.DataFrame, officials: pd.DataFrame, residents: pd.DataFrame,
              lookalikes: dict[str, float]) -> None:
        """Plant the patterns and look-alikes (the ledger is read, never changed: a 虚列 payment keeps its lines and
        loses its bank row)."""
        rng = self.rng
        villages = list(self.villages)
        plan = {k: set(np.flatnonzero(rng.random(len(villages)) < r)) for k, r in self.rates.items()}
        for k, chosen in plan.items():
            if not chosen and self.rates[k] > 0:
                chosen.add(int(rng.integers(0, len(villages))))
        rel = officials[officials["related_to"].notna()]
        people = residents[residents["status"] == "在册"]
        acct_of = {n: a for a, n in self.holders.items()}
        for i, v in enumerate(villages):
            here_rel = rel[rel["village_code"] == v.code]
            here = people[people["village_code"] == v.code]
            if i in plan["bank_unbooked_payment"]:
                case = self.case("bank_unbooked_payment")
                who = here_rel if len(here_rel) and rng.random() < 0.5 else here
                if len(who):
                    p = who.iloc[int(rng.integers(0, len(who)))]
                    for _ in range(int(rng.integers(1, 3))):
                        r = self.row(v.code, self._day(), round(float(rng.uniform(3000, 40000)), -2), 0, p["name"],
                                     acct_of.get(p["name"]) or self._pseudo(p["name"]), "网银转账", "往来款")
                        self.truth.append((case, "bank_unbooked_payment", "bank", r))
            if i in plan["bank_unbooked_receipt"]:
                case = self.case("bank_unbooked_receipt")
                payer = f"{v.name}{rng.choice(['家庭农场', '养殖场', '砂石场'])}"
                for _ in range(int(rng.integers(1, 3))):
                    r = self.row(v.code, self._day(), 0, round(float(rng.uniform(5000, 60000)), -2), payer,
                                 self._pseudo(payer), "转账收入", rng.choice(["租金", "承包费", "场地费"]))
                    self.truth.append((case, "bank_unbooked_receipt", "bank", r))
            if i in plan["ledger_unbanked"] and self.honest.get(v.code):
                case = self.case("ledger_unbanked")
                vids = self.honest[v.code]
                for vid in rng.choice(vids, min(len(vids), int(rng.integers(1, 3))), replace=False):
                    for r in self.by_voucher.pop(vid, []):
                        self.removed.add(id(r))
                    lines = ledger[(ledger["village_code"] == v.code)
                                   & (ledger["entry_id"].str.rsplit("-", n=1).str[0] == vid)]
                    for e in lines["entry_id"]:
                        self.truth.append((case, "ledger_unbanked", "ledger", e))
            if i in plan["bank_round_trip"] and len(here):
                case = self.case("bank_round_trip")
                who = here_rel if len(here_rel) else here
                p = who.iloc[int(rng.integers(0, len(who)))]
                acct = acct_of.get(p["name"]) or self._pseudo(p["name"])
                amt = round(float(rng.uniform(20000, 80000)), -3)
                d = self._day(hi=dt.date(self.year, 11, 30))
                a = self.row(v.code, d, amt, 0, p["name"], acct, "网银转账", "借款")
                b = self.row(v.code, d + dt.timedelta(days=int(rng.integers(5, 26))), 0, amt, p["name"], acct,
                             "转账收入", "还款")
                self.truth += [(case, "bank_round_trip", "bank", a), (case, "bank_round_trip", "bank", b)]
            # honest look-alikes
            if rng.random() < lookalikes.get("own_transfer_lookalike", 0):
                special = self._acct(v.code, "专户")
                amt = round(float(rng.uniform(20000, 100000)), -3)
                d = self._day(hi=dt.date(self.year, 10, 31))
                back = d + dt.timedelta(days=int(rng.integers(10, 40)))
                rows = [self.row(v.code, d, amt, 0, self.names[v.code], special, "转账支出", "转入专户"),
                        self.row(v.code, d, 0, amt, self.names[v.code], self.accounts[v.code], "转账收入", "基本户转入",
                                 acct=special),
                        self.row(v.code, back, amt, 0, self.names[v.code], self.accounts[v.code], "转账支出",
                                 "转回基本户", acct=special),
                        self.row(v.code, back, 0, amt, self.names[v.code], special, "转账收入", "专户转回")]
                self.lookalikes += [("own_transfer_lookalike", v.code, "bank", r) for r in rows]
            if rng.random() < lookalikes.get("returned_payment_lookalike", 0):
                made = [r for vid, rs in self.by_voucher.items() if vid.startswith(v.code) for r in rs
                        if r["amount_out"] and r["counterparty_account"] and r["summary"] == "转账支出"]
                if made:
                    r0 = made[int(rng.integers(0, len(made)))]
                    first = dict(r0)
                    d0 = r0["txn_date"] - dt.timedelta(days=1) if r0["txn_date"].day > 2 else r0["txn_date"]
                    a = self.row(v.code, d0, r0["amount_out"], 0, r0["counterparty_name"],
                                 first["counterparty_account"][:-1] + "0", "转账支出", r0["purpose"])
                    b = self.row(v.code, d0, 0, r0["amount_out"], r0["counterparty_name"], a["counterparty_account"],
                                 "退汇", "户名账号不符退回")
                    self.lookalikes += [("returned_payment_lookalike", v.code, "bank", a),
                                        ("returned_payment_lookalike", v.code, "bank", b)]
            if rng.random() < lookalikes.get("household_payee_lookalike", 0):
                self._household_payee(v, residents)

    def _household_payee(self, v, residents: pd.DataFrame) -> None:
        """A villager's labour paid into the account of someone of the same household (spouse, parent)."""
        res = residents[residents["village_code"] == v.code]
        houses = res.groupby("household_id")["person_id"].size()
        multi = set(houses[houses > 1].index)
        for vid in self.honest.get(v.code, []):
            rows = self.by_voucher.get(vid, [])
            if len(rows) != 1:
                continue
            r = rows[0]
            name = r["counterparty_name"]
            person = res[res["name"] == name]
            if len(person) != 1 or person["household_id"].iat[0] not in multi:
                continue
            others = res[(res["household_id"] == person["household_id"].iat[0]) & (res["name"] != name)]
            if others.empty:
                continue
            o = others.iloc[0]
            acct = {n: a for a, n in self.holders.items()}.get(o["name"])
            if not acct:
                continue
            r["counterparty_name"], r["counterparty_account"] = o["name"], acct
            self.lookalikes.append(("household_payee_lookalike", v.code, "bank", r))
            return

    def _day(self, hi: dt.date | None = None) -> dt.date:
        lo = dt.date(self.year, 1, 5)
        hi = hi or dt.date(self.year, 12, 20)
        return lo + dt.timedelta(days=int(self.rng.integers(0, (hi - lo).days)))

    def frame(self) -> pd.DataFrame:
        """Rows in statement order with running balances; txn ids as the bank's serials."""
        from . import _frame

        self.rows = [r for r in self.rows if id(r) not in self.removed]
        df = _frame("bank", self.rows)
        df["_o"] = np.arange(len(df))
        df = df.sort_values(["account_no", "txn_date", "_o"], kind="stable").reset_index(drop=True)
        net = df["amount_in"].fillna(0.0) - df["amount_out"].fillna(0.0)
        cum = net.groupby(df["account_no"]).cumsum()
        low = cum.groupby(df["account_no"]).transform("min").clip(upper=0)
        accounts = sorted(df["account_no"].unique())
        opening = df["account_no"].map(dict(zip(accounts, self.rng.uniform(50_000, 400_000, len(accounts)), strict=True)))
        df["balance"] = (opening - low + cum).round(2)
        # serials in statement order, as the bank numbers them
        df["serial_no"] = [f"{self.year}{i + 1:09d}" for i in range(len(df))]
        df["txn_id"] = df["account_no"] + "-" + df["serial_no"]
        ids = {id(r): t for r, t in zip(self.rows_sorted(df), df["txn_id"], strict=True)}
        self.truth = [(c, k, t, ids[id(r)] if t == "bank" else r) for c, k, t, r in self.truth]
        self.lookalikes = [(k, v, t, ids[id(r)]) for k, v, t, r in self.lookalikes]
        return df.drop(columns="_o")

    def rows_sorted(self, df: pd.DataFrame) -> list[dict]:
        return [self.rows[i] for i in df["_o"]]
