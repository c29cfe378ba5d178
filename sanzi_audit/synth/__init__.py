"""A realistic synthetic county with ground truth: ``sanzi synth --out DIR --villages N --seed S``.

The output is a source folder in exactly the input contract (docs/data-contract.md) plus ``truth.csv``
(case_id, fraud_type, source_table, record_id: every injected anomaly) and ``lookalikes.csv`` (honest records
built to resemble fraud, which a good detector leaves alone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Config, load_config
from ..contract import TABLES
from .books import Books
from .inject import FRAUD_TYPES, Injector
from .world import Identities, build_vendors, build_villages

__all__ = ["FRAUD_TYPES", "SynthOptions", "SynthResult", "generate", "write"]

# Probability that a village carries each pattern (several may co-occur in one village).
DEFAULT_RATES = {
    "split_contract": 0.30, "duplicate_payment": 0.30, "shared_account": 0.15, "related_party": 0.20,
    "payee_alias": 0.10, "voucher_gap": 0.08,
    "claim_deceased": 0.15, "claim_nonresident": 0.10, "claim_inflated_area": 0.10, "claim_duplicate": 0.10,
    "claim_shared_account": 0.07, "holiday_payment": 0.08, "near_limit": 0.08,
    "hospitality": 0.08, "contract_overpaid": 0.08, "voucher_backdated": 0.06,
    "large_cash": 0.06, "cash_hoard": 0.05, "cash_sitting": 0.06, "benford": 0.05, "lease_underpriced": 0.08,
    "claim_cadre": 0.08, "claim_area_growth": 0.08, "round_amounts": 0.05,
    "no_contract_payment": 0.05,
    "lease_too_long": 0.06, "lease_overdue": 0.08, "lease_expired": 0.06, "contract_signed_late": 0.06,
    "collective_loan": 0.06,
}
LOOKALIKE_RATE = 0.3
LOOKALIKES = ("split_lookalike", "namesake_lookalike", "death_after_pay_lookalike", "holiday_lookalike",
              "hospitality_lookalike", "cash_banked_lookalike", "lease_lookalike", "area_growth_lookalike",
              "wasteland_lookalike", "late_rent_lookalike", "renewed_lease_lookalike", "prepaid_lookalike",
              "advance_lookalike")


@dataclass(frozen=True)
class SynthOptions:
    villages: int = 30
    seed: int = 7
    year: int = 2024
    vouchers_per_village: int = 1400
    rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    hard: bool = False  # the variants real schemes use and their look-alikes (synth/hard.py)
    bank: bool = False  # bank statements, with the money the books do not show (synth/bank.py)
    registers: bool = False  # other departments' registers and the program-rule patterns (synth/registers.py)


@dataclass
class SynthResult:
    tables: dict[str, pd.DataFrame]
    truth: pd.DataFrame
    lookalikes: pd.DataFrame
    directory: pd.DataFrame = field(default_factory=pd.DataFrame)  # 代码, 名称, 乡镇: the county's village directory


def generate(options: SynthOptions = SynthOptions(), config: Config | None = None,
             progress: Callable[[int, int], None] | None = None) -> SynthResult:
    config = config or load_config()
    rng = np.random.default_rng(options.seed)
    ids = Identities(rng, config.region.county_code)
    villages = build_villages(rng, ids, options.villages, options.year)
    vendors = build_vendors(rng, ids, max(12, int(options.villages * 0.6)))
    vendor_w = 1.0 / np.arange(1, len(vendors) + 1) ** 0.8  # a few contractors work in many villages
    books = Books(options.year, config, rng)
    rates = dict(options.rates)
    lookalikes = {k: LOOKALIKE_RATE for k in LOOKALIKES}
    if options.hard:
        from .hard import HARD_LOOKALIKES, HARD_RATES, HardInjector

        hard = HardInjector(books, ids, vendors)
        hard.villages = villages
        inj: Injector = hard
        rates.update(HARD_RATES)
        lookalikes.update(HARD_LOOKALIKES)
    else:
        inj = Injector(books, ids, vendors)
    bank_rng = np.random.default_rng([options.seed, 1, 2])  # its own stream: counties without bank stay the same
    if options.bank:
        from .bank import BANK_LOOKALIKES, BANK_RATES

        rates["bank_payee_mismatch"] = BANK_RATES["bank_payee_mismatch"]

    # Which village carries which pattern is planned up front, so that even a small county has each one.
    plan = {kind: set(np.flatnonzero(rng.random(len(villages)) < rate)) for kind, rate in rates.items()}
    for kind, chosen in plan.items():
        if not chosen and rates[kind] > 0:
            chosen.add(int(rng.integers(0, len(villages))))
    for i, v in enumerate(villages):
        books.begin_village()
        books.routine(v, vendors, options.vouchers_per_village)
        books.honest_contracts(v, vendors, vendor_w)
        books.subsidies(v, rate=float(rng.uniform(105, 125)))
        for kind in rates:
            if i in plan[kind]:
                if kind == "claim_duplicate":
                    inj.claim_duplicate(v, villages[(i + 1) % len(villages)])
                else:
                    getattr(inj, kind)(v)
        for look, rate in lookalikes.items():
            if rng.random() < rate:
                getattr(inj, look)(v)
        if options.bank:
            from .bank import fee_voucher

            for m in range(1, 13):
                fee_voucher(books, v, bank_rng, m)
        books.cash_float(v)  # last: petty cash is drawn for whatever the village paid in cash
        if progress:
            progress(i + 1, len(villages))

    ledger, key_to_ids = _number_vouchers(books, {v.code: v.name for v in villages})
    tables = {
        "ledger": ledger,
        "contracts": _frame("contracts", books.contracts),
        "claims": _frame("claims", books.claims),
        "residents": _frame("residents", [
            dict(person_id=p.person_id, name=p.name, village_code=p.village_code, household_id=p.household_id,
                 status=p.status, status_date=p.status_date, contracted_area=p.contracted_area)
            for v in villages for p in v.people if p.household_id]),
        "officials": _frame("officials", _officials(villages, options.year, books.employers)),
    }

    def resolve(rows: list[tuple]) -> list[tuple]:
        out = []
        for *head, table, ref in rows:
            rid = key_to_ids[ref] if table == "ledger" else ref
            out.append((*head, table, rid))
        return out

    truth_rows, look_rows = resolve(books.truth), resolve(books.lookalikes)
    if options.bank:
        from .bank import Statements

        holders: dict[str, str] = {}
        for v in villages:
            for p in v.people:
                holders.setdefault(p.account, p.name)
        for vend in vendors:
            holders.setdefault(vend.account, vend.name)
        st = Statements(bank_rng, options.year, holders, villages, books, key_to_ids,
                        {r[3] for r in truth_rows if r[2] == "ledger"},
                        {k: r for k, r in BANK_RATES.items() if k != "bank_payee_mismatch"})
        st.build(ledger)
        st.plant(ledger, tables["officials"], tables["residents"], BANK_LOOKALIKES)
        tables["bank"] = st.frame()
        truth_rows += st.truth
        look_rows += st.lookalikes
        ledger["counterparty_account"] = None  # real ledgers seldom carry it: the statement does
    if options.registers:
        from .registers import Registers

        reg = Registers(np.random.default_rng([options.seed, 3, 4]), options.year, villages, vendors,
                        config.region.county_code, ids)
        claims = tables["claims"]
        dibao = set(claims.loc[claims["program"] == "最低生活保障金", "claimant_id"])
        reg.honest(dibao, set(tables["officials"]["person_id"]))
        reg.plant(claims, tables["contracts"], tables["officials"])
        reg.decisions(tables["contracts"], ledger, config)
        reg.terms(tables["contracts"])
        reg.apply(tables)
        truth_rows += reg.truth
        look_rows += reg.lookalikes
    truth = pd.DataFrame(truth_rows, columns=["case_id", "fraud_type", "source_table", "record_id"])
    look = pd.DataFrame(look_rows, columns=["kind", "village_code", "source_table", "record_id"])
    directory = pd.DataFrame([dict(代码=v.code, 名称=v.name, 乡镇=v.township_name) for v in villages])
    return SynthResult(tables, truth.drop_duplicates(), look, directory)


def _number_vouchers(books: Books, names: dict[str, str]) -> tuple[pd.DataFrame, dict]:
    """Number vouchers per village in date order, as a ledger would; map truth refs to entry ids."""
    rows: list[dict] = []
    key_to_ids: dict[tuple[int, int], str] = {}
    by_village: dict[str, list] = {}
    for v in books.vouchers:
        by_village.setdefault(v.village, []).append(v)
    for code, vs in sorted(by_village.items()):
        vs.sort(key=lambda x: (x.date, x.key))
        for seq, vo in enumerate(vs, start=1):
            voucher_no = f"{books.year}-{seq:04d}"
            if vo.key in books.dropped:  # numbered, then gone: the neighbours carry the evidence
                case = books.dropped[vo.key]
                for nb in (vs[seq - 2] if seq >= 2 else None, vs[seq] if seq < len(vs) else None):
                    if nb is not None and nb.key not in books.dropped:
                        books.truth.append((case, "voucher_gap", "ledger", (nb.key, 0)))
                continue
            for li, line in enumerate(vo.lines, start=1):
                entry_id = f"{code}-{voucher_no}-{li}"
                key_to_ids[(vo.key, li - 1)] = entry_id
                rows.append(dict(entry_id=entry_id, village_code=code, village_name=names.get(code),
                                 voucher_no=voucher_no, line_no=str(li),
                                 entry_date=books.backdated.get(vo.key, vo.date), **line))
    return _frame("ledger", rows), key_to_ids


def _frame(table: str, rows: list[dict]) -> pd.DataFrame:
    cols = TABLES[table].column_names
    df = pd.DataFrame(rows)
    for c in cols:
        if c not in df:
            df[c] = None
    return df[cols]


def _officials(villages, year: int, employers: dict[str, str] | None = None) -> list[dict]:
    employers = employers or {}
    rows = []
    for v in villages:
        for p, role in v.cadres:
            rows.append(dict(person_id=p.person_id, name=p.name, village_code=v.code, role=role, related_to=None,
                             relation="本人", term_start=dt.date(2021, 1, 1), term_end=dt.date(2026, 1, 1)))
        for r, cadre, relation in v.relatives:
            rows.append(dict(person_id=r.person_id, name=r.name, village_code=v.code, role=None,
                             related_to=cadre.person_id, relation=relation, term_start=None, term_end=None,
                             employer=employers.get(r.person_id)))
    return rows


# ---- writing -------------------------------------------------------------------------------------

def truth_dir(out: str | Path) -> Path:
    """Where the answer key goes: inside the source folder, under a name the reader leaves out (``_``)."""
    return Path(out) / "_truth"


FORMATS = ("canonical", "kingdee", "yonyou", "sanzi-system", "mixed")


def write(result: SynthResult, out: str | Path, messy: bool = False, seed: int = 0, fmt: str = "canonical",
          config: Config | None = None) -> Path:
    """Write the source folder: in the contract (``canonical``; ``messy`` adds GBK, Chinese headers and XLSX), or
    the way 金蝶/用友/三资 systems and township offices export it (``kingdee``, ``yonyou``, ``sanzi-system``,
    ``mixed``: see synth/layouts.py), with ``_county/county.yaml`` and the village directory beside it."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if fmt != "canonical":
        import shutil

        from .layouts import write_layouts

        for old in out.iterdir():  # a rewrite must not leave last time's files for the reader to find
            if old.is_dir() and not old.name.startswith("."):
                shutil.rmtree(old)
            elif old.suffix.lower() in (".csv", ".xlsx", ".xls", ".txt"):
                old.unlink()
        truth, look, rows = write_layouts(result, out, fmt, seed, config or load_config())
        truth_dir(out).mkdir(exist_ok=True)
        rows.to_csv(truth_dir(out) / "rows.csv", index=False, encoding="utf-8")
        truth.to_csv(truth_dir(out) / "truth.csv", index=False, encoding="utf-8")
        look.to_csv(truth_dir(out) / "lookalikes.csv", index=False, encoding="utf-8")
        return out
    for old in out.glob("*"):
        if old.stem in TABLES and old.suffix in (".csv", ".xlsx"):
            old.unlink()
    rng = np.random.default_rng(seed)
    for name, df in result.tables.items():
        if not messy:
            _fmt_dates(df).to_csv(out / f"{name}.csv", index=False, encoding="utf-8")
            continue
        m = _messy(name, df, rng)
        if name not in ("ledger", "claims", "residents", "bank"):  # registers come as workbooks
            m.to_excel(out / f"{name}.xlsx", index=False, sheet_name=TABLES[name].title)
        else:
            enc = {"ledger": "gbk", "claims": "utf-8-sig", "residents": "gb18030", "bank": "gb18030"}[name]
            m.to_csv(out / f"{name}.csv", index=False, encoding=enc)
    truth_dir(out).mkdir(exist_ok=True)
    result.truth.to_csv(truth_dir(out) / "truth.csv", index=False, encoding="utf-8")
    result.lookalikes.to_csv(truth_dir(out) / "lookalikes.csv", index=False, encoding="utf-8")
    return out


def _fmt_dates(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in df.columns:
        if len(df) and isinstance(df[c].dropna().iloc[0] if df[c].notna().any() else None, dt.date):
            df[c] = df[c].map(lambda d: d.isoformat() if isinstance(d, dt.date) else d)
    return df


_FW = str.maketrans("0123456789.", "０１２３４５６７８９．")


def _messy(name: str, df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Chinese headers, thousand separators, full-width digits and mixed date formats, as real exports have."""
    table = TABLES[name]
    df = df.copy()
    if name == "ledger":
        df = df.drop(columns=["entry_id"])  # many platforms export no line id: it is derived
    n = len(df)
    for c in table.columns_of_kind("amount", "number"):
        if c not in df:
            continue
        vals = df[c]
        txt = vals.map(lambda x: "" if pd.isna(x) else f"{x:,.2f}")
        fw = rng.random(n) < 0.02
        txt = txt.where(~fw, txt.str.replace(",", "", regex=False).str.translate(_FW))
        df[c] = txt
    for c in table.columns_of_kind("date"):
        if c not in df:
            continue
        style = rng.integers(0, 4, n)
        fmts = ["{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}年{m}月{d}日", "{y}{m:02d}{d:02d}"]
        df[c] = [("" if not isinstance(x, dt.date) else fmts[s].format(y=x.year, m=x.month, d=x.day))
                 for x, s in zip(df[c], style, strict=True)]
    return df.rename(columns={c.name: c.aliases[0] for c in table.columns if c.aliases and c.name in df})
