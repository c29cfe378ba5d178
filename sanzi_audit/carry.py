"""Detector results carried over from the last night whose input for them was the same.

A detector's leads are a function of its code, its parameters, the county's configuration and the rows of the
tables it reads (its ``requires`` and ``uses``, and what its declared views are built from). Each night stores, per
detector, a key over all of that and the leads it gave (table ``detector_carry``). The next night computes the same
key; where it matches, the detector does not run and its leads are carried over, as they were.

A detector of ``scope = "village"`` promises that a village's leads rest on that village's rows alone
(``testing.check_detector`` checks every village of the sample county). Its key leaves out the village-keyed
tables and stores instead one hash per village; only villages whose rows changed run again, on an input of those
villages alone, and every other village keeps its leads. Its leads are checked to cite only records of their own
village: one that cites another village's record is stored under a key over all villages, so it is carried only
when nothing changed. A county- or population-scope detector runs again when any row it reads changed.

Any change of code (the package's sources, or a plugin's module), of an installed dependency's version, of a
detector's version or parameters, or of the county configuration gives other keys: nothing is carried over a
change of the rules. A ``--full`` night recomputes everything (and stores what it found); a township- or
period-limited night neither reads nor stores.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .detectors.base import Detector, DetectorInput, Lead
from .detectors.views import VIEWS
from .incremental import row_hashes

WARNINGS = "warnings"  # the warnings view, keyed like a table
log = logging.getLogger(__name__)


@cache
def _package_digest() -> str:
    """The package's own sources and default configuration: any edit gives other keys."""
    import sanzi_audit
    import sanzi_audit.detectors

    # the installed versions of every dependency: a new pandas, pyod or chinese-calendar (next year's holidays) can
    # change leads without a line of ours changing, and Polars' row hashes are stable within a version only
    h = hashlib.sha256(json.dumps(dependency_versions(), sort_keys=True).encode())
    for root in sorted({Path(sanzi_audit.__file__).parent, Path(sanzi_audit.detectors.__file__).parent}):
        for f in sorted(root.rglob("*")):
            if f.suffix in (".py", ".yaml") and f.is_file():
                h.update(f.name.encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def dependency_versions() -> dict[str, str]:
    import re
    from importlib import metadata

    out = {"python": sys.version}
    try:
        requires = metadata.requires("sanzi-audit") or []
    except metadata.PackageNotFoundError:
        requires = []
    for req in requires:
        if "extra ==" in req:
            continue
        name = re.split(r"[\s;<>=!~\[]", req, maxsplit=1)[0]
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "-"
    return out


@cache
def _class_digest(cls: type[Detector]) -> str:
    """The package's digest and, for a plugin, its module's source."""
    h = hashlib.sha256(_package_digest().encode())
    try:
        src = inspect.getsourcefile(cls)
        if src:
            h.update(Path(src).read_bytes())
    except (OSError, TypeError):
        h.update(cls.__module__.encode())
    return h.hexdigest()


def tables_read(cls: type[Detector]) -> tuple[str, ...]:
    """Every table a detector's leads can depend on, the warnings view included when it reads it."""
    names = set(cls.requires) | set(cls.uses)
    for v in cls.views:
        names |= set(VIEWS[v].reads) if v in VIEWS else set()
    if WARNINGS in cls.views:
        names.add(WARNINGS)
    return tuple(sorted(names))


class InputHashes:
    """Per table of one night's input: a hash of each village's rows and of the whole table, computed once."""

    def __init__(self, data: DetectorInput):
        self.data = data
        self._by_village: dict[str, dict[str, str] | None] = {}
        self._whole: dict[str, str] = {}

    def _frame(self, table: str) -> pd.DataFrame | None:
        if table == WARNINGS:
            return self.data.warnings
        return self.data.tables.get(table)

    def _compute(self, table: str) -> None:
        frame = self._frame(table)
        if frame is None:
            self._by_village[table], self._whole[table] = None, "absent"
            return
        schema = "|".join(f"{c}:{t}" for c, t in zip(frame.columns, frame.dtypes.astype(str), strict=True))
        rows = row_hashes(frame)
        # order-free and exact: the count and the sums of each hash's low and high 32 bits (no overflow below 2^31
        # rows), so a night that reads the rows in another order gives the same hash
        lo = (rows & np.uint64(0xFFFFFFFF)).astype(np.int64)
        hi = (rows >> np.uint64(32)).astype(np.int64)
        if "village_code" in frame.columns:
            village = frame["village_code"].astype("object").where(frame["village_code"].notna(), "").to_numpy()
            sums = pd.DataFrame({"v": village, "lo": lo, "hi": hi}).groupby("v", sort=True).agg(
                n=("lo", "size"), lo=("lo", "sum"), hi=("hi", "sum"))
            per = {str(v): f"{schema}#{r.n}:{r.lo}:{r.hi}" for v, r in zip(sums.index, sums.itertuples(), strict=True)}
            self._by_village[table] = per
            body = json.dumps(per, sort_keys=True)
        else:
            self._by_village[table] = None
            body = f"{schema}#{len(rows)}:{int(lo.sum())}:{int(hi.sum())}"
        self._whole[table] = hashlib.sha256(body.encode()).hexdigest()

    def by_village(self, table: str) -> dict[str, str] | None:
        """village code → hash of its rows; None for a table without villages (or absent)."""
        if table not in self._whole:
            self._compute(table)
        return self._by_village[table]

    def whole(self, table: str) -> str:
        if table not in self._whole:
            self._compute(table)
        return self._whole[table]


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@dataclass
class Key:
    """What a detector's leads tonight depend on: one hash, and for a village-scope detector one per village."""

    whole: str
    villages: dict[str, str] | None = None  # village-scope only


def config_digest(config) -> str:
    """The whole county configuration, thresholds, programs and directory included."""
    return _digest(config.model_dump(mode="json"))


def key_of(det: Detector, hashes: InputHashes, config_digest: str) -> Key:
    cls = type(det)
    tables = tables_read(cls)
    per_village = cls.scope == "village"
    parts: dict[str, object] = dict(code=_class_digest(cls), name=cls.name, version=cls.version, scope=cls.scope,
                                    params=det.params.model_dump(mode="json"), config=config_digest)
    villages: dict[str, dict[str, str]] = {}
    for t in tables:
        split = hashes.by_village(t) if per_village else None
        if split is None:
            parts[f"table:{t}"] = hashes.whole(t)
        else:
            parts[f"table:{t}"] = "by village"
            for v, h in split.items():
                villages.setdefault(v, {})[t] = h
    combined = {v: _digest(hs) for v, hs in villages.items()} if per_village else None
    return Key(_digest(parts), combined)


@dataclass
class Entry:
    """One detector's stored result: the key it was computed under, its leads and its notes."""

    key: Key
    leads: list[Lead]
    notes: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """What tonight does for one detector: carry every lead over, run some villages again, or run it."""

    carried: list[Lead] = field(default_factory=list)
    rerun: set[str] | None = None  # villages to run again (village scope); None: the whole input
    complete: bool = False  # every lead carried over, nothing to run
    notes: list[str] = field(default_factory=list)


def plan(key: Key, previous: Entry | None) -> Plan:
    if previous is not None and previous.key.villages is None and key.villages is not None \
            and not_by_village(key).whole == previous.key.whole:
        # stored as looking across villages (``local`` failed): carried only when nothing at all changed
        return Plan(carried=list(previous.leads), complete=True, notes=list(previous.notes))
    if previous is None or previous.key.whole != key.whole:
        return Plan()
    if key.villages is None or previous.key.villages is None:
        return Plan(carried=list(previous.leads), complete=True, notes=list(previous.notes))
    old, new = previous.key.villages, key.villages
    if any(ld.village_code not in old for ld in previous.leads):
        return Plan()  # a lead outside the villages it was keyed by: nothing to carry safely
    changed = {v for v, h in new.items() if old.get(v) != h}
    kept = [ld for ld in previous.leads if ld.village_code in new and ld.village_code not in changed]
    if not changed:
        return Plan(carried=kept, complete=True, notes=list(previous.notes))
    return Plan(carried=kept, rerun=changed, notes=list(previous.notes))


def local(leads: list[Lead], data: DetectorInput) -> bool:
    """Whether every lead cites only records of its own village: what ``scope = "village"`` promises, and what
    carrying village by village relies on. A lead citing another village's record (one pension paid in two
    villages) shows the rule looks across villages, whatever it declares."""
    from .contract import TABLES

    wanted: dict[str, set[str]] = {}
    for ld in leads:
        for t, r in ld.evidence:
            wanted.setdefault(t, set()).add(r)
    owners: dict[str, dict[str, set[str]]] = {}
    for t, ids in wanted.items():
        if t not in TABLES or not data.has(t) or "village_code" not in data[t]:
            continue
        col = TABLES[t].record_id
        df = data[t]
        hit = df.loc[df[col].isin(list(ids)).to_numpy(), [col, "village_code"]]
        by: dict[str, set[str]] = {}
        for rid, v in zip(hit[col], hit["village_code"], strict=True):
            by.setdefault(str(rid), set()).add(str(v))
        owners[t] = by
    for ld in leads:
        for t, r in ld.evidence:
            where = owners.get(t, {}).get(str(r))
            if where is not None and ld.village_code not in where:
                return False
    return True


def not_by_village(key: Key) -> Key:
    """The key of a detector whose leads were found to look across villages: one hash over every village's rows
    (so any change runs it on everything), never matched by a per-village key."""
    return Key(_digest({"whole": key.whole, "villages": key.villages}), None)


# ---- storage -------------------------------------------------------------------------------------------------

def _lead_json(ld: Lead) -> dict:
    return dict(detector=ld.detector, village_code=ld.village_code, score=float(ld.score),
                amount_at_risk=float(ld.amount_at_risk), title=ld.title, explanation=ld.explanation,
                evidence=[[str(t), str(r)] for t, r in ld.evidence], key=[str(k) for k in ld.key],
                # as ranking will write them (json with default=str), so a carried lead publishes byte for byte alike
                details=json.loads(json.dumps(ld.details, ensure_ascii=False, default=str)),
                joins_cases=bool(ld.joins_cases), detector_version=ld.detector_version)


def _lead_of(d: dict) -> Lead:
    return Lead(detector=d["detector"], village_code=d["village_code"], score=d["score"],
                amount_at_risk=d["amount_at_risk"], title=d["title"], explanation=d["explanation"],
                evidence=[(t, r) for t, r in d["evidence"]], key=tuple(d["key"]), details=d["details"],
                joins_cases=d["joins_cases"], detector_version=d["detector_version"])


def load(engine: sa.Engine) -> dict[str, Entry]:
    """The stored entries by detector; an unreadable row is left out (its detector simply runs)."""
    from .store import detector_carry

    out: dict[str, Entry] = {}
    with engine.connect() as conn:
        for r in conn.execute(sa.select(detector_carry)):
            try:
                villages = json.loads(r.villages) if r.villages else None
                out[r.detector] = Entry(Key(r.key, villages), [_lead_of(d) for d in json.loads(r.leads)],
                                        json.loads(r.notes or "[]"))
            except (ValueError, KeyError, TypeError):
                continue
    return out


def save(engine: sa.Engine, entries: dict[str, Entry], run_id: int) -> None:
    """Replace the stored entries of these detectors (the others keep theirs)."""
    from .store import detector_carry

    if not entries:
        return
    rows = [dict(detector=name, key=e.key.whole, run_id=run_id,
                 villages=json.dumps(e.key.villages, sort_keys=True) if e.key.villages is not None else None,
                 leads=json.dumps([_lead_json(ld) for ld in e.leads], ensure_ascii=False),
                 notes=json.dumps(e.notes, ensure_ascii=False)) for name, e in sorted(entries.items())]
    with engine.begin() as conn:
        conn.execute(detector_carry.delete().where(detector_carry.c.detector.in_(sorted(entries))))
        conn.execute(detector_carry.insert(), rows)


class Carry:
    """One night's use of the stored results: what was stored, tonight's input and its hashes, and what tonight
    will store (``entries``)."""

    def __init__(self, previous: dict[str, Entry], data: DetectorInput):
        self.previous = previous
        self.data = data
        self.hashes = InputHashes(data)
        self.entries: dict[str, Entry] = {}
        self._subsets: dict[frozenset[str], DetectorInput] = {}

    def _subset(self, villages: set[str]) -> DetectorInput:
        """Shared between detectors that run again on the same villages (most read the ledger alone)."""
        k = frozenset(villages)
        if k not in self._subsets:
            self._subsets[k] = self.data.of_villages(villages)
        return self._subsets[k]

    def run(self, det: Detector, config_digest: str,
            detect: Callable[[DetectorInput], tuple[list[Lead], list[str]]]) -> tuple[list[Lead], list[str], str]:
        """One detector's leads and notes tonight, and how they came (DetectorReport.carried): carried over
        ("all"), run again on the changed villages ("N/M"), or run on everything (""). ``detect`` runs it on an
        input; what to store for the next night goes into ``entries``."""
        name = type(det).name
        key = key_of(det, self.hashes, config_digest)
        previous = self.previous.get(name)
        p = plan(key, previous)
        if p.complete:
            assert previous is not None
            # stored under its key as it was: a detector found to look across villages stays so
            self.entries[name] = Entry(previous.key, p.carried, p.notes)
            return p.carried, p.notes, "all"
        if p.rerun is None:
            leads, notes = detect(self.data)
            carried = ""
        else:
            found, notes = detect(self._subset(p.rerun))
            leads, notes = p.carried + found, list(dict.fromkeys(p.notes + notes))
            carried = f"{len(p.rerun)}/{len(key.villages or {})}"
        if key.villages is not None and not local(leads, self.data):
            # declared village scope, yet a lead cites another village's record: never carry it by village
            log.warning("detector %s declares scope village but a lead cites another village's record: its "
                        "results are not carried village by village", name)
            notes = [*notes, "本检测器声明按村检测，但有线索引用了其他村的记录：其结果不按村沿用，数据有变化时全部重新检测"]
            key = not_by_village(key)
        self.entries[name] = Entry(key, leads, notes)
        return leads, notes, carried
