from sanzi_audit.config import load_config
from sanzi_audit.detectors.base import DetectorInput
from sanzi_audit.detectors.examples import V2, V, contract, pay  # noqa: F401  (the row builders the examples use)
from sanzi_audit.testing import frame


def data(**tables) -> DetectorInput:
    return DetectorInput({k: frame(k, rows) for k, rows in tables.items()}, load_config())
