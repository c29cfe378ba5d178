"""One source of truth per detector: its class. Registration, titles and versions are read from it."""

from __future__ import annotations

import ast
from pathlib import Path

from sanzi_audit.registry import detector_titles, load_detectors

ROOT = Path(__file__).parents[1]


def test_every_module_that_defines_a_detector_is_registered():
    """A detector module missing from the entry points never runs and is never checked: fail here instead."""
    registered = {cls.__module__.rsplit(".", 1)[-1] for cls in load_detectors().values()}
    defining = set()
    for path in (ROOT / "detectors").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and any(getattr(b, "id", None) == "Detector" for b in node.bases):
                defining.add(path.stem)
    assert defining and defining <= registered, f"not registered in pyproject.toml: {sorted(defining - registered)}"


def test_every_lead_source_has_a_chinese_title():
    titles = detector_titles()
    for name, cls in load_detectors().items():
        assert titles[name] == cls.title and not titles[name].isascii(), name
