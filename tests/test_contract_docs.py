from pathlib import Path

from sanzi_audit.contract import render_markdown

DOC = Path(__file__).parent.parent / "docs" / "data-contract.md"


def test_data_contract_doc_is_in_step_with_the_code():
    assert render_markdown() in DOC.read_text(encoding="utf-8"), \
        "docs/data-contract.md is stale: paste sanzi_audit.contract.render_markdown() output into it"
