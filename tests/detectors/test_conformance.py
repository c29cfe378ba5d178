"""One conformance suite over every registered detector (built-ins load through entry points like plugins)."""

import pytest

from sanzi_audit.registry import load_detectors
from sanzi_audit.testing import check_detector

DETECTORS = load_detectors()


def test_builtins_are_registered():
    assert {"split_contracts", "duplicate_payments", "shared_accounts", "related_party_payees",
            "vendor_concentration"} <= set(DETECTORS)


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_detector_conforms(name):
    check_detector(DETECTORS[name])


def test_conformance_catches_a_broken_detector():
    from sanzi_audit.detectors.base import Detector

    class Bad(Detector):
        name = "bad_scores"
        title = "坏分数"
        description = "x" * 100
        requires = ("ledger",)

        def detect(self, data):
            led = data["ledger"]
            return [self.lead(village_code=v, score=1.5, amount_at_risk=0, title="疑点", explanation="疑点",
                              evidence=[("ledger", e)], key=(e,))
                    for v, e in zip(led["village_code"][:1], led["entry_id"][:1], strict=False)]

    with pytest.raises((AssertionError, ValueError), match="score"):
        check_detector(Bad)


def test_conformance_catches_a_view_or_table_read_but_not_declared():
    from sanzi_audit.detectors.base import Detector

    class Sneaky(Detector):
        name = "sneaky_reads"
        title = "偷读视图"
        description = "x" * 100
        requires = ("ledger",)

        def detect(self, data):
            data.payments  # noqa: B018 - the read is the point
            return []

    with pytest.raises(AssertionError, match="views it does not declare"):
        check_detector(Sneaky)

    class Sneakier(Sneaky):
        name = "sneakier_reads"
        views = ("payments",)

        def detect(self, data):
            data["officials"]  # noqa: B018
            return []

    with pytest.raises(AssertionError, match="tables it does not declare"):
        check_detector(Sneakier)
