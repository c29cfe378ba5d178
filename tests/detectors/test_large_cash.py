"""The worked example of docs/adding-a-detector.md, kept as a real detector so the guide cannot rot."""

import re
from pathlib import Path

import pytest

from sanzi_audit.detectors.large_cash import LargeCash

from .helpers import data, pay

CASES = [("2,000元 cash above a 1,000元 limit", 2000, "现金", True),
         ("2,000元 by transfer", 2000, "转账", False),
         ("800元 cash", 800, "现金", False)]


@pytest.mark.parametrize("desc,amount,settlement,flagged", CASES, ids=[c[0] for c in CASES])
def test_cases(desc, amount, settlement, flagged):
    leads = LargeCash().detect(data(ledger=[pay("e1", "2024-03-01", amount, "某商店", "513001", settlement=settlement)]))
    assert bool(leads) == flagged


def test_guide_shows_the_real_module():
    doc = (Path(__file__).parents[2] / "docs" / "adding-a-detector.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(\"\"\"大额现金支付.*?)```", doc, re.S).group(1)
    assert code == (Path(__file__).parents[2] / "detectors" / "large_cash.py").read_text(encoding="utf-8")
