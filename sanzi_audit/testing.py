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
from .registry import check_leads, run_detectors


@lru_cache(maxsize=4)
def sample_input(villages: int = 3, seed: int = 11) -> DetectorInput:
    """A small synthetic county with bank statements (its ledger carries no payee accounts, as real ledgers) and the
    registers of other departments, written, extracted and validated exactly as a real run would."""
    from .pipeline import validate_all
    from .sources import extract
    from .synth import SynthOptions, generate, write

    config = load_config()
    with tempfile.TemporaryDirectory() as tmp:
        options = SynthOptions(villages=villages, seed=seed, vouchers_per_village=300, bank=True, registers=True)
        write(generate(options, config), tmp)
        validated = validate_all(extract(tmp))
    return DetectorInput({k: v.clean[TABLES[k].column_names] for k, v in validated.items()}, config)


def _without(data: DetectorInput, drop: set[str]) -> DetectorInput:
    return DetectorInput({k: v for k, v in data.tables.items() if k not in drop}, data.config)


def _empty(data: DetectorInput) -> DetectorInput:
    return DetectorInput({k: v.iloc[0:0] for k, v in data.tables.items()}, data.config)


def _one_village(data: DetectorInput) -> DetectorInput:
    v = data["ledger"]["village_code"].iloc[0]
    return DetectorInput({k: df[df["village_code"] == v].reset_index(drop=True) for k, df in data.tables.items()},
                         data.config)


def _summary(leads) -> list[tuple]:
    return sorted((ld.lead_id, round(ld.score, 6), round(ld.amount_at_risk, 2), ld.title, tuple(ld.evidence))
                  for ld in leads)


def check_detector(cls: type[Detector], data: DetectorInput | None = None) -> None:
    """Raise AssertionError naming the first broken promise of the detector contract."""
    data = data or sample_input()
    assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.name or ""), f"{cls.__name__}: name must be snake_case"
    assert cls.version, f"{cls.name}: version is empty"
    assert cls.title and re.search(r"[\u4e00-\u9fff]", cls.title), f"{cls.name}: title must be Chinese"
    assert len(cls.description or "") >= 80, f"{cls.name}: description must say what it flags, why, and its basis"
    for t in (*cls.requires, *cls.uses):
        assert t in TABLES, f"{cls.name}: unknown input table {t!r}"
    for pname, field in cls.Params.model_fields.items():
        assert field.description, f"{cls.name}: parameter {pname} has no description"
    det = cls(cls.Params())
    cls.describe()

    # empty input: no leads, no error
    assert det.detect(_empty(data)) == [], f"{cls.name}: leads from empty input"

    # full and one-village input: valid leads, deterministic, evidence that exists in the input
    for label, d in (("sample county", data), ("one village", _one_village(data))):
        first = det.detect(d)
        check_leads(det, first, d)
        second = cls(cls.Params()).detect(d)
        assert _summary(first) == _summary(second), f"{cls.name}: output differs between two runs ({label})"
        ids = {t: set(d[t][TABLES[t].record_id].astype("str")) for t in d.tables}
        for ld in first:
            assert ld.detector == cls.name, f"{cls.name}: lead.detector is {ld.detector!r}"
            assert "疑点" in ld.title, f"{cls.name}: a lead title must say 疑点 ({ld.title})"
            # a reviewer should see at once what would clear it (若为同一合同分期付款……可据合同排除)
            assert "排除" in ld.explanation, f"{cls.name}: the explanation must say what would clear the lead"
            for t, rid in ld.evidence:
                assert t in ids and str(rid) in ids[t], f"{cls.name}: evidence {t}:{rid} not in the input ({label})"
        lead_ids = [ld.lead_id for ld in first]
        assert len(lead_ids) == len(set(lead_ids)), f"{cls.name}: two leads share a lead_id ({label})"

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
