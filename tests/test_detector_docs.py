from pathlib import Path

from sanzi_audit.registry import render_markdown

DOC = Path(__file__).parent.parent / "docs" / "detectors.md"


def test_detector_doc_is_in_step_with_the_classes():
    assert render_markdown() in DOC.read_text(encoding="utf-8"), \
        "docs/detectors.md is stale: paste sanzi_audit.registry.render_markdown() output into it"
