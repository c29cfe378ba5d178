"""The detector plugin API: everything a detector in another package needs, from one module.

    from sanzi_audit.plugin import Detector, DetectorInput, Example, Lead, Params, check_detector, pay, wan

Names here are kept stable across minor versions (tests/test_plugin_api.py pins the list); anything else in
``sanzi_audit`` may change without notice. docs/adding-a-detector.md walks through a whole detector.
"""

from sanzi_audit.detectors.base import (
    EVIDENCE_TABLES,
    Detector,
    DetectorInput,
    Lead,
    Params,
    mentions,
    wan,
    ymd,
)
from sanzi_audit.detectors.examples import (
    V2,
    Example,
    V,
    claim,
    contract,
    official_row,
    pay,
    receipt,
    resident,
)
from sanzi_audit.testing import check_detector, example_input, frame, run_example, sample_input

__all__ = [
    # the contract
    "Detector", "DetectorInput", "Lead", "Params", "EVIDENCE_TABLES",
    # wording helpers: amounts as auditors write them, dates, word lists
    "wan", "ymd", "mentions",
    # worked examples and the rows they are written in
    "Example", "V", "V2", "pay", "receipt", "contract", "claim", "resident", "official_row",
    # conformance
    "check_detector", "sample_input", "example_input", "run_example", "frame",
]
