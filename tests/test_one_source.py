"""One source of truth per detector: its class. Registration, titles and versions are read from it."""

from __future__ import annotations

import ast
from pathlib import Path

from sanzi_audit.registry import detector_titles, load_detectors

ROOT = Path(__file__).parents[1]


def test_every_module_that_defines_a_detector_is_registered():
    """A detector the registry does not find never runs and is never checked: fail here instead."""
    registered = {cls.__module__.rsplit(".", 1)[-1] for cls in load_detectors().values()}
    defining = set()
    for path in (ROOT / "detectors").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and any(getattr(b, "id", None) == "Detector" for b in node.bases):
                defining.add(path.stem)
    assert defining and defining <= registered, f"defined but not found by the registry: {sorted(defining - registered)}"


def test_every_lead_source_has_a_chinese_title():
    titles = detector_titles()
    for name, cls in load_detectors().items():
        assert titles[name] == cls.title and not titles[name].isascii(), name


def test_every_detector_shows_what_it_flags_and_what_it_leaves_alone():
    """At least one example it flags and one look-alike it leaves alone, in its own file (check_detector runs them)."""
    missing = sorted(name for name, cls in load_detectors().items()
                     if not (any(e.positive for e in cls.examples) and any(not e.positive for e in cls.examples)))
    assert not missing, f"detectors without a positive and a negative example: {missing}"


def test_weights_and_switches_live_on_the_class_not_in_the_default_config():
    from sanzi_audit.config import default_config_dict, load_config
    from sanzi_audit.registry import settings

    assert not default_config_dict().get("detectors"), "default_config.yaml overrides a detector: put it on the class"
    config = load_config()
    for name, cls in load_detectors().items():
        s = settings(config, name)
        assert (s.weight, s.enabled) == (cls.default_weight, cls.enabled_by_default), name


def test_a_county_override_beats_the_class(tmp_path):
    from sanzi_audit.config import load_config
    from sanzi_audit.registry import settings

    path = tmp_path / "county.yaml"
    path.write_text("detectors:\n  claims_outlier: {enabled: true}\n  benford: {weight: 0.2}\n", encoding="utf-8")
    config = load_config(path)
    assert settings(config, "claims_outlier").enabled and settings(config, "claims_outlier").weight == 0.5
    assert settings(config, "benford").weight == 0.2 and settings(config, "benford").enabled
