import pytest

from sanzi_audit.detectors.payee_aliases import PayeeAliases

from .helpers import data, pay

CASES = [
    ("homophones into one account", [pay("a", "2024-03-01", 1500, "王伟", "213001", counterparty_account="A1"),
                                     pay("b", "2024-03-09", 1600, "王玮", "213001", counterparty_account="A1")],
     {"a", "b"}),
    ("homophones beside a spouse on an elderly couple's account",
     [pay("a", "2024-03-01", 1500, "王伟", "213001", counterparty_account="A1"),
      pay("b", "2024-03-09", 1600, "王玮", "213001", counterparty_account="A1"),
      pay("c", "2024-04-01", 900, "李秀英", "213001", counterparty_account="A1")], {"a", "b"}),
    ("a couple sharing an account (honest)", [pay("a", "2024-03-01", 1500, "王伟", "213001", counterparty_account="A1"),
                                              pay("b", "2024-03-09", 1600, "李秀英", "213001", counterparty_account="A1")],
     set()),
    ("one ID under two names", [pay("a", "2024-03-01", 1500, "王伟", "213001", counterparty_id="330599198001011234"),
                                pay("b", "2024-05-01", 1500, "王卫东", "213001", counterparty_id="330599198001011234")],
     {"a", "b"}),
    ("company suffix and full-width variants are one name (honest)",
     [pay("a", "2024-03-01", 4800, "演示县兴湾建材有限公司", "121001", counterparty_id="91330599AAAAAAAAA1"),
      pay("b", "2024-05-01", 4800, "兴湾建材有限责任公司", "121001", counterparty_id="91330599AAAAAAAAA1"),
      pay("c", "2024-06-01", 4800, "兴湾建材（有限公司）", "121001", counterparty_id="91330599AAAAAAAAA1")], set()),
    ("different people of one name with different IDs (honest)",
     [pay("a", "2024-03-01", 1500, "王伟", "213001", counterparty_id="330599198001011234", counterparty_account="A1"),
      pay("b", "2024-05-01", 1500, "王伟", "213001", counterparty_id="330599199002021235", counterparty_account="A2")],
     set()),
]


@pytest.mark.parametrize("desc,rows,expected", CASES, ids=[c[0] for c in CASES])
def test_alias_cases(desc, rows, expected):
    leads = PayeeAliases().detect(data(ledger=rows))
    assert {r for ld in leads for _, r in ld.evidence} == expected
