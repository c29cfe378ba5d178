"""Conformance checks every detector must pass; a third-party package calls ``check_detector(MyDetector)``.

    from sanzi_audit.testing import check_detector

    def test_my_detector_conforms():
        check_detector(MyDetector)
"""

from __future__ import annotations

import re
import tempfile
from functools import lru_cache

import pandas as pd

from .config import load_config
from .contract import TABLES
from .detectors.base import Detector, DetectorInput
from .detectors.examples import Example
from .detectors.views import VIEWS
from .registry import check_leads, run_detectors


@lru_cache(maxsize=4)
def sample_input(villages: int = 3, seed: int = 11) -> DetectorInput:
    """A small synthetic county with bank statements (its ledger carries no payee accounts, as real ledgers) and the
    registers of other departments, written, extracted and validated exactly as a real run would, in the canonical
    order a nightly run hands detectors."""
    from .pipeline import validate_all, warnings_view
    from .sources import extract
    from .synth import SynthOptions, generate, write

    config = load_config()
    with tempfile.TemporaryDirectory() as tmp:
        options = SynthOptions(villages=villages, seed=seed, vouchers_per_village=300, bank=True, registers=True)
        write(generate(options, config), tmp)
        validated = validate_all(extract(tmp))
    return DetectorInput({k: v.clean[TABLES[k].column_names] for k, v in validated.items()}, config,
                         warnings_view(validated))


def _input(data: DetectorInput, tables: dict[str, pd.DataFrame], warnings: pd.DataFrame | None) -> DetectorInput:
    return DetectorInput(tables, data.config, warnings)


def _without(data: DetectorInput, drop: set[str]) -> DetectorInput:
    return _input(data, {k: v for k, v in data.tables.items() if k not in drop}, data.warnings)


def _empty(data: DetectorInput) -> DetectorInput:
    w = data.warnings.iloc[0:0] if data.warnings is not None else None
    return _input(data, {k: v.iloc[0:0] for k, v in data.tables.items()}, w)


def _villages(data: DetectorInput, keep: set[str]) -> DetectorInput:
    return data.of_villages(keep)


def _one_village(data: DetectorInput) -> DetectorInput:
    return _villages(data, {data["ledger"]["village_code"].iloc[0]})


def _shuffled(data: DetectorInput, seed: int) -> DetectorInput:
    """Every table's rows in another order (and a fresh index), as a night that read the files differently."""
    return _input(data, {k: df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
                         for k, df in data.tables.items()}, data.warnings)


def _summary(leads) -> list[tuple]:
    return sorted((ld.lead_id, round(ld.score, 6), round(ld.amount_at_risk, 2), ld.title, ld.explanation,
                   tuple(sorted(ld.evidence))) for ld in leads)


def _fingerprint(data: DetectorInput) -> dict[str, tuple]:
    out = {}
    for k, df in data.tables.items():
        out[k] = (tuple(df.columns), tuple(map(str, df.dtypes)), tuple(df.index[:5]),
                  int(pd.util.hash_pandas_object(df.astype("string"), index=True).sum()) if len(df) else 0)
    return out


class _Recorder(DetectorInput):
    """The same input, recording which views and tables a detector reads itself (not those a view reads to build
    itself: only accesses at depth 0 count)."""

    def __init__(self, data: DetectorInput):  # not super().__init__: that would sort the tables again
        self.__dict__.update(data.__dict__)
        self._views: set[str] = set()
        self._tables: set[str] = set()
        self._depth = 0

    def __getattribute__(self, name: str):
        if name not in VIEWS:
            return object.__getattribute__(self, name)
        depth = object.__getattribute__(self, "_depth")
        if depth == 0:
            object.__getattribute__(self, "_views").add(name)
        object.__setattr__(self, "_depth", depth + 1)
        try:
            value = object.__getattribute__(self, name)
        finally:
            object.__setattr__(self, "_depth", depth)
        if VIEWS[name].kind != "method":
            return value

        def call(*args, **kw):  # what the method reads is the method's business
            object.__setattr__(self, "_depth", depth + 1)
            try:
                return value(*args, **kw)
            finally:
                object.__setattr__(self, "_depth", depth)
        return call

    def __getitem__(self, table: str) -> pd.DataFrame:
        if self._depth == 0:
            self._tables.add(table)
        return super().__getitem__(table)


def views_read(cls: type[Detector], data: DetectorInput) -> tuple[set[str], set[str]]:
    """(views, tables) the detector reads itself on ``data``."""
    rec = _Recorder(data)
    cls(cls.Params()).detect(rec)
    return rec._views, rec._tables


def _check_views(cls: type[Detector], data: DetectorInput) -> None:
    views, tables = views_read(cls, data)
    for ex in cls.examples:  # the examples may take paths the sample county does not
        v, t = views_read(cls, example_input(ex))
        views, tables = views | v, tables | t
    for declared in cls.views:
        assert declared in VIEWS, f"{cls.name}: unknown view {declared!r} (detectors/views.py)"
    assert views <= set(cls.views), f"{cls.name}: reads views it does not declare: {sorted(views - set(cls.views))}"
    undeclared = tables - set(cls.requires) - set(cls.uses)
    assert not undeclared, f"{cls.name}: reads tables it does not declare in requires/uses: {sorted(undeclared)}"
    for name in cls.views:
        view = VIEWS[name]
        if view.kind != "frame":
            continue
        frame = getattr(data, name)
        if frame is None or frame.empty:
            continue
        missing = [c for c in view.columns if c not in frame]
        assert not missing, f"view {name}: columns {missing} missing"
        if view.key:
            assert not frame.duplicated(list(view.key)).any(), f"view {name}: key {view.key} is not unique"
        if view.order:
            again = frame.sort_values(list(view.order), kind="stable", na_position="last")
            assert (again.index == frame.index).all(), f"view {name}: rows are not in the order {view.order}"


def example_input(example: Example, config=None) -> DetectorInput:
    """An example's tables as typed frames in the contract's shape (columns it leaves out are empty)."""
    from .pipeline import WARNING_COLUMNS

    warnings = pd.DataFrame(example.warnings, columns=WARNING_COLUMNS) if example.warnings else None
    return DetectorInput({t: frame(t, rows) for t, rows in example.tables.items()}, config or load_config(), warnings)


def run_example(cls: type[Detector], example: Example, config=None) -> list:
    return cls(cls.Params(**example.params)).detect(example_input(example, config))


def check_detector(cls: type[Detector], data: DetectorInput | None = None) -> None:
    """Raise AssertionError naming the first broken promise of the detector contract."""
    data = data or sample_input()
    assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.name or ""), f"{cls.__name__}: name must be snake_case"
    assert cls.version, f"{cls.name}: version is empty"
    assert cls.title and re.search(r"[\u4e00-\u9fff]", cls.title), f"{cls.name}: title must be Chinese"
    assert len(cls.description or "") >= 80, f"{cls.name}: description must say what it flags, why, and its basis"
    assert cls.kind in KINDS, f"{cls.name}: kind must be one of {KINDS}"
    assert cls.default_weight >= 0, f"{cls.name}: default_weight below 0"
    for t in (*cls.requires, *cls.uses):
        assert t in TABLES, f"{cls.name}: unknown input table {t!r}"
    for pname, field in cls.Params.model_fields.items():
        assert field.description, f"{cls.name}: parameter {pname} has no description"
    det = cls(cls.Params())
    cls.describe()

    # its own worked examples: each gives exactly the leads it says, and the leads keep the contract
    for ex in cls.examples:
        d = example_input(ex)
        got = cls(cls.Params(**ex.params)).detect(d)
        assert len(got) == ex.leads, f"{cls.name}: example “{ex.label}” gave {len(got)} leads, expected {ex.leads}"
        _check_leads(cls, det, got, d, f"example “{ex.label}”")

    # the views and tables it reads are the ones it declares, and the views keep their keys and order
    _check_views(cls, data)

    # empty input: no leads, no error
    assert det.detect(_empty(data)) == [], f"{cls.name}: leads from empty input"

    # full and one-village input: valid leads, deterministic, evidence that exists in the input, input untouched
    full: list = []
    for label, d in (("sample county", data), ("one village", _one_village(data))):
        before = _fingerprint(d)
        first = det.detect(d)
        assert _fingerprint(d) == before, f"{cls.name}: detect() changed its input ({label})"
        _check_leads(cls, det, first, d, label)
        second = cls(cls.Params()).detect(d)
        assert _summary(first) == _summary(second), f"{cls.name}: output differs between two runs ({label})"
        full = full or first

    # the order rows arrive in changes nothing: not the leads, their ids, texts, scores or evidence
    for seed in (1, 2):
        again = cls(cls.Params()).detect(_shuffled(data, seed))
        assert _summary(again) == _summary(full), f"{cls.name}: shuffled rows give other leads (seed {seed})"

    # a village on its own: its leads are those of the whole county in that village (Detector.scope)
    assert cls.scope in SCOPES, f"{cls.name}: scope must be one of {SCOPES}"
    villages = sorted({v for df in data.tables.values() if "village_code" in df for v in df["village_code"].dropna()})
    for village in villages:  # every village, so a rule that compares villages shows it on one of them
        alone = _summary(cls(cls.Params()).detect(_villages(data, {village})))
        among = _summary([ld for ld in full if ld.village_code == village])
        if cls.scope == "county":
            extra = sorted(set(alone) - set(among))
            assert not extra, f"{cls.name}: village {village} on its own gives leads the county does not: {extra[:2]}"
        elif cls.scope == "village":
            assert alone == among, f"{cls.name}: village {village} on its own gives other leads than in the whole " \
                                   f"county (a rule comparing villages declares scope = \"county\", one scoring " \
                                   f"against a county or township rate scope = \"population\")"

    # a missing required table: the runner skips it with a reason (the detector switched on, even if off by default)
    from .config import DetectorSettings

    config = load_config()
    config = config.model_copy(update={"detectors": {**config.detectors, cls.name: DetectorSettings(enabled=True)}})
    for t in cls.requires:
        _, reports = run_detectors(_without(data, {t}), config, classes={cls.name: cls})
        assert reports[0].status == "skipped" and t in reports[0].reason, \
            f"{cls.name}: not skipped with a reason when {t} is missing"
    # a missing optional table: still runs
    if cls.uses:
        check_leads(det, det.detect(_without(data, set(cls.uses))), data)


KINDS = ("fraud", "data_quality")
SCOPES = ("village", "county", "population")


def _check_leads(cls: type[Detector], det: Detector, leads: list, d: DetectorInput, label: str) -> None:
    check_leads(det, leads, d)
    ids = {t: set(d[t][TABLES[t].record_id].astype("str")) for t in d.tables}
    for ld in leads:
        assert ld.detector == cls.name, f"{cls.name}: lead.detector is {ld.detector!r}"
        assert ld.detector_version == str(cls.version), f"{cls.name}: a lead without its detector's version"
        assert "疑点" in ld.title, f"{cls.name}: a lead title must say 疑点 ({ld.title})"
        # a reviewer should see at once what would clear it (若为同一合同分期付款……可据合同排除)
        assert "排除" in ld.explanation, f"{cls.name}: the explanation must say what would clear the lead"
        for t, rid in ld.evidence:
            assert t in ids and str(rid) in ids[t], f"{cls.name}: evidence {t}:{rid} not in the input ({label})"
    lead_ids = [ld.lead_id for ld in leads]
    assert len(lead_ids) == len(set(lead_ids)), f"{cls.name}: two leads share a lead_id ({label})"


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """A typed frame in the contract's shape from a few hand-written rows (for table-driven tests)."""
    t = TABLES[table]
    df = pd.DataFrame(rows)
    for c in t.columns:
        if c.name not in df:
            df[c.name] = None
        if c.kind == "date":
            df[c.name] = pd.to_datetime(df[c.name]).astype("datetime64[us]")
        elif c.kind in ("amount", "number"):
            df[c.name] = pd.to_numeric(df[c.name]).astype("float64")
        else:
            df[c.name] = df[c.name].astype("str").where(df[c.name].notna(), None)
    return df[t.column_names]
