import pytest

from sanzi_audit.detectors.near_limit_amounts import NearLimitAmounts

from .helpers import data, pay


def rows(amounts, settlement="现金", handler="张会计", year=2024):
    out = []
    for i, a in enumerate(amounts):
        r = pay(f"e{i}", f"{year}-03-{i + 1:02d}", a, "某商店", "513001", settlement=settlement)
        r["handler"] = handler
        out.append(r)
    return out


CASES = [  # default config: cash payment limit 1,000元, band 10%, min_count 4, window 60 days, ratio 3
    ("five cash payments of 950-999元 to one payee", [950, 960, 980, 990, 999], "现金", 1),
    ("the same amounts by transfer (the cash limit does not apply)", [950, 960, 980, 990, 999], "转账", 0),
    ("cash payments mostly well under the limit (honest)", [420, 950, 600, 980, 300, 990], "现金", 0),
    ("three below: under min_count", [950, 960, 990], "现金", 0),
    ("a handler's payments bunching under the goods tender limit", [48000, 49000, 49500, 49900], "转账", 1),
]


@pytest.mark.parametrize("desc,amounts,settlement,n", CASES, ids=[c[0] for c in CASES])
def test_cases(desc, amounts, settlement, n):
    assert len(NearLimitAmounts().detect(data(ledger=rows(amounts, settlement)))) == n


def test_the_lead_names_the_limit_and_the_payments():
    (ld,) = NearLimitAmounts().detect(data(ledger=rows([950, 960, 980, 990, 999])))
    assert "现金支付限额" in ld.title and ld.details == {"limit": 1000.0, "payments": 5, "window_days": 60}
    assert len(ld.evidence) == 5 and "疑点" in ld.title and "某商店" in ld.title


def test_payments_spread_over_the_year_are_not_a_run():
    ledger = []
    for i, (m, a) in enumerate([(1, 950), (4, 960), (7, 980), (10, 990)]):
        ledger.append(pay(f"e{i}", f"2024-{m:02d}-10", a, "某商店", "513001", settlement="现金"))
    assert NearLimitAmounts().detect(data(ledger=ledger)) == []


def test_payees_apart():
    ledger = rows([950, 960]) + [dict(r, counterparty="另一商店", entry_id=r["entry_id"] + "b")
                                 for r in rows([980, 990])]
    assert NearLimitAmounts().detect(data(ledger=ledger)) == []
