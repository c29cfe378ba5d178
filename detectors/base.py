"""The detector contract. Every detector, built-in or third-party, subclasses ``Detector``.

A detector is one module with one class that declares:

- ``name`` (snake_case, unique), ``version``, ``title`` (Chinese display name), ``description`` (what it
  flags, why it matters, and the basis of its thresholds);
- ``requires``: input tables it cannot work without (the run skips it, with a reason, when one is absent);
  ``uses``: optional tables it reads when present;
- ``Params``: a pydantic model of typed parameters with defaults, overridable per region in the config;
- ``detect(data) -> list[Lead]``: the only method to write.

Scores point one way: **a higher score means more worth an auditor's look**, in [0, 1]. A lead is a reason
to look, not a finding: titles and explanations say 疑点 and state what was compared with what.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict

from sanzi_audit.config import Config
from sanzi_audit.detectors.examples import Example

EVIDENCE_TABLES = ("ledger", "contracts", "claims", "residents", "officials", "bank", "public_employees", "vehicles",
                   "properties", "businesses", "business_people", "decisions",
                   "contract_terms")


class Params(BaseModel):
    """Base of every detector's parameters: frozen, and unknown keys are an error (typos in config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class Lead:
    """One 疑点线索: a reason to look, with the records behind it."""

    detector: str
    village_code: str
    score: float
    amount_at_risk: float
    title: str
    explanation: str
    evidence: list[tuple[str, str]]  # (source_table, record_id)
    # The records that make this anomaly what it is; the lead id is a hash of detector + key, so the same
    # anomaly keeps its id when scores change or more evidence arrives.
    key: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    joins_cases: bool = True  # see Detector.joins_cases
    detector_version: str = ""  # the version of the rule that produced it: part of the evidence

    @property
    def lead_id(self) -> str:
        basis = "|".join((self.detector, self.village_code, *self.key))
        return f"{self.detector}:{hashlib.sha1(basis.encode('utf-8')).hexdigest()[:16]}"


class DetectorInput:
    """What a detector sees: validated tables (history included) and the region configuration.

    Shared derived views (resolved payee entities, officials' identifiers) are computed once per run and
    cached here, so detectors don't each pay for them.
    """

    def __init__(self, tables: dict[str, pd.DataFrame], config: Config, warnings: pd.DataFrame | None = None):
        # an absent table is left out (``has`` is False for it)
        self.tables: dict[str, pd.DataFrame] = {name: canonical(name, frame) for name, frame in tables.items()
                                                 if frame is not None}
        self.config = config
        # tonight's failing ``warning`` expectations marked lead (pipeline.warnings_view; columns WARNING_COLUMNS)
        self.warnings = warnings

    def of_villages(self, villages: Iterable[str]) -> DetectorInput:
        """The input of these villages alone: village-keyed tables (and the warnings) filtered, the others whole."""
        keep = sorted(villages)

        def cut(df: pd.DataFrame) -> pd.DataFrame:
            if "village_code" not in df.columns:
                return df
            return df[df["village_code"].isin(keep).to_numpy()].reset_index(drop=True)

        w = self.warnings
        return DetectorInput({k: cut(v) for k, v in self.tables.items()}, self.config,
                             cut(w) if w is not None else None)

    def has(self, table: str) -> bool:
        return table in self.tables and self.tables[table] is not None

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]

    @cached_property
    def entities(self):
        from sanzi_audit.entities import EntityIndex

        return EntityIndex.build(self)

    @cached_property
    def official_accounts(self) -> dict[str, tuple[str, ...]]:
        """Bank account → person_ids (sorted) of the cadres or relatives it belongs to (entities.official_accounts)."""
        from sanzi_audit.entities import official_accounts

        return official_accounts(self)

    @cached_property
    def roles(self) -> pd.Series:
        """The role of every ledger line's account (sanzi_audit.chart: payroll, admin_expense, construction …), in
        the line's chart: detectors speak in roles, never in raw codes, so both village charts and enterprise
        books read the same."""
        from sanzi_audit import chart

        led = self["ledger"]
        return chart.roles(led["account_code"], led["entry_date"], led["chart"] if "chart" in led else None)

    @cached_property
    def payments(self) -> pd.DataFrame:
        """Ledger debit lines that pay someone (expense, asset, payable accounts) with a payee named; with each
        line's ``role`` and ``level1`` code. With bank statements, ``counterparty_account`` is the account the
        bank really paid (where the line has none), and ``bank_txn`` / ``bank_name`` name that bank row and the
        account holder it shows."""
        from sanzi_audit.entities import payments

        return payments(self)

    @cached_property
    def bank_match(self):
        """Ledger 银行存款 lines matched to bank statement rows (sanzi_audit.bank.BankMatch); None without ``bank``."""
        if not self.has("bank") or not self.has("ledger"):
            return None
        from sanzi_audit import bank

        return bank.match(self, self.config.bank.match_window_days)

    @cached_property
    def contract_links(self) -> pd.Series:
        """Per row of ``payments``: the registered contract it pays (by its column, cited in 摘要, or fitting inside a
        tendered or resolved contract of the same payee), or NA (see entities.contract_links)."""
        from sanzi_audit.entities import contract_links

        return contract_links(self)

    @cached_property
    def vouchers(self) -> pd.DataFrame:
        """One row per voucher: its first line's entry_id, date and summary, the debit total, and the number split
        into series prefix and numeric part (rows whose number has no trailing digits are left out), sorted by
        village, prefix and number."""
        from sanzi_audit.entities import vouchers

        return vouchers(self)

    @cached_property
    def cash(self) -> pd.DataFrame:
        """Ledger lines on 库存现金 (101): entry_id, village_code, voucher_no, entry_date, summary, counterparty,
        amount (+ in, − out) and kind — withdrawal (from the bank), receipt (cash income), deposit (to the bank) or
        payment — sorted by village and date."""
        from sanzi_audit.entities import cash_movements

        return cash_movements(self)

    @cached_property
    def official_labels(self) -> dict[str, str]:
        """person_id of every cadre and close relative → who they are, as auditors read it: 党支部书记本人,
        党支部书记李四的配偶 (村干部 when the role or the cadre is not on the roster)."""
        if not self.has("officials"):
            return {}
        off = self["officials"]
        cadres = off[off["related_to"].isna()].drop_duplicates("person_id").set_index("person_id")
        out: dict[str, str] = {}
        for r in off.itertuples():
            if r.related_to is None or r.related_to != r.related_to:  # the cadre
                out.setdefault(r.person_id, f"{r.role or '村干部'}本人")
                continue
            known = r.related_to in cadres.index
            role = (cadres.at[r.related_to, "role"] if known else None) or "村干部"
            name = (cadres.at[r.related_to, "name"] if known else None) or ""
            out.setdefault(r.person_id, f"{role}{name}的{r.relation or '亲属'}")
        return out

    def official_of(self, village: pd.Series, name: pd.Series, account: pd.Series | None = None,
                    person_id: pd.Series | None = None) -> pd.Series:
        """Per row: who the party is among the cadres and close relatives (党支部书记李四的配偶) — by ID, else by one of
        their accounts, else by name within the village — or None."""
        out = pd.Series(None, index=village.index, dtype="object")
        if not self.has("officials") or village.empty:
            return out
        labels = self.official_labels
        pid = pd.Series(None, index=village.index, dtype="object")
        if person_id is not None:
            pid = person_id.astype("object").where(person_id.isin(labels), None)
        if account is not None:
            by_acct = {a: pids[0] for a, pids in self.official_accounts.items()}
            pid = pid.where(pid.notna(), account.map(by_acct).astype("object"))
        o = self["officials"].drop_duplicates(["village_code", "name"])
        by_name = dict(zip(zip(o["village_code"], o["name"], strict=True), o["person_id"], strict=True))
        named = pd.Series([by_name.get(k) for k in zip(village, name, strict=True)], index=village.index, dtype="object")
        pid = pid.where(pid.notna(), named)
        return pid.map(labels).astype("object").where(pid.notna(), None)

    def per_village(self, villages: pd.Series, pick: Callable[[Any], float]) -> pd.Series:
        """``pick(thresholds)`` for each row's village, as floats: thresholds differ by township, and are looked up
        once per village rather than once per row."""
        found = {v: pick(self.config.thresholds_for(v)) for v in villages.unique()}
        return villages.map(found).astype("float64")


def canonical(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A contract table in its canonical order (contract.Table.canonical_order: village, date, key) with a fresh
    index, so nothing a detector derives (an owner, a first-seen label, the evidence it cites, a lead id) depends on
    the order rows arrived in: tonight's rows then history on an incremental night, file order on a --full one."""
    from sanzi_audit.contract import TABLES

    if name not in TABLES:
        return frame
    order = [c for c in TABLES[name].canonical_order if c in frame]
    if len(frame) > 1 and order and not in_order(frame, order):
        return frame.sort_values(order, kind="stable", na_position="last", ignore_index=True)
    return frame.reset_index(drop=True)


def in_order(frame: pd.DataFrame, order: list[str]) -> bool:
    """Whether the rows already are in ascending ``order`` with no missing value in it, so that a stable sort would
    leave them as they are: history read back from last night's snapshot is (it was written in this order), and
    sorting a million ledger lines again costs most of a second. Compares each row with the next in Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    tied = None  # per adjacent pair: equal on every column so far
    for c in order:
        col = frame[c]
        if col.isna().any():
            return False
        arr = pa.array(col.array) if isinstance(col.dtype, pd.StringDtype) else pa.array(col.to_numpy())
        a, b = arr.slice(0, len(arr) - 1), arr.slice(1)
        less, equal = pc.less(a, b), pc.equal(a, b)
        wrong = pc.invert(pc.or_(less, equal))
        if pc.any(wrong if tied is None else pc.and_(tied, wrong)).as_py():
            return False
        tied = equal if tied is None else pc.and_(tied, equal)
        if not pc.any(tied).as_py():
            return True
    return True  # rows tied on every column stay in their order under a stable sort too


def mentions(text: pd.Series, words: Iterable[str]) -> pd.Series:
    """Whether each text contains any of ``words`` (literally); missing text mentions nothing."""
    words = [w for w in words if w]
    if not words:
        return pd.Series(False, index=text.index)
    return text.fillna("").str.contains("|".join(map(re.escape, words)), regex=True).astype(bool)


class Detector(ABC):
    name: ClassVar[str]
    version: ClassVar[str] = "1"
    title: ClassVar[str]
    description: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    uses: ClassVar[tuple[str, ...]] = ()
    # the shared views it reads (detectors/views.py: data.payments, data.vouchers …); check_detector holds it to them
    views: ClassVar[tuple[str, ...]] = ()
    # the legal or policy text its rule rests on, as auditors cite it (《村集体经济组织会计制度》第…条)
    basis: ClassVar[str] = ""
    # ranking: priority multiplier, and whether a county gets it without switching it on (config overrides both)
    default_weight: ClassVar[float] = 1.0
    enabled_by_default: ClassVar[bool] = True
    # "fraud" leads join cases and the main queue; "data_quality" leads (broken books, not conduct) are kept apart
    kind: ClassVar[str] = "fraud"
    # worked examples: at least one input it flags and one honest look-alike it leaves alone (detectors/examples.py);
    # check_detector runs them and `sanzi detectors --examples` shows them
    examples: ClassVar[tuple[Example, ...]] = ()
    # what a lead rests on, for check_detector's subset check:
    #   "village": one village's records alone: a village checked on its own gives exactly its leads in the county;
    #   "county": records of several villages compared (one person paid in two): on its own it may lose a lead,
    #             never gain or change one;
    #   "population": a score against every record in the input (the ECOD model) or against a county or township
    #                 rate or median (round amounts, holiday postings, rents): a subset is scored afresh
    scope: ClassVar[str] = "village"
    # True when leads rest on who was paid: a payee read only from 摘要 then lowers the score (registry)
    uses_payee: ClassVar[bool] = False
    # False for detectors whose leads describe a whole population (a handler's year of amounts, for Benford): their
    # evidence is a sample, so it neither joins other leads into one case nor counts as an independent signal
    joins_cases: ClassVar[bool] = True
    Params: ClassVar[type[Params]] = Params

    def __init__(self, params: Any = None):
        # typed Any: each detector reads the fields of its own Params subclass (validated by pydantic already)
        self.params: Any = params if params is not None else self.Params()
        self.notes: list[str] = []

    def note(self, message: str) -> None:
        """Something the run summary should say about this run of the detector (Chinese), e.g. a test withheld
        for too small a sample. Notes are not leads."""
        self.notes.append(message)

    @abstractmethod
    def detect(self, data: DetectorInput) -> list[Lead]:
        """Return leads found in ``data``; deterministic for the same input and parameters."""

    def lead(self, **kw) -> Lead:
        return Lead(detector=self.name, joins_cases=self.joins_cases, detector_version=str(self.version), **kw)

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "name": cls.name, "version": cls.version, "title": cls.title, "description": cls.description,
            "requires": list(cls.requires), "uses": list(cls.uses), "views": list(cls.views), "basis": cls.basis,
            "default_weight": cls.default_weight, "enabled_by_default": cls.enabled_by_default, "kind": cls.kind,
            "examples": [{"label": e.label, "leads": e.leads, "tables": e.tables, "params": e.params}
                         for e in cls.examples],
            "params": {k: {"default": f.default, "description": f.description or ""}
                       for k, f in cls.Params.model_fields.items()},
        }


def wan(amount: float) -> str:
    """Amounts as auditors write them: 12.6万元 above 10,000, else 8,450元."""
    if abs(amount) >= 10_000:
        return f"{amount / 10_000:.2f}".rstrip("0").rstrip(".") + "万元"
    return f"{amount:,.0f}元"


def ymd(ts) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%d")
