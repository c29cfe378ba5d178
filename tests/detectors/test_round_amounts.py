"""整数金额集中: a handler's round-thousand payments against the county's share."""

from sanzi_audit.detectors.round_amounts import RoundAmounts

from .helpers import data, pay


def book(amounts, handler, start=0):
    out = []
    for i, a in enumerate(amounts):
        r = pay(f"{handler}{start + i}", f"2024-{i % 12 + 1:02d}-{i % 27 + 1:02d}", float(a), f"村民{i % 40}", "513004",
                summary="支付误工补贴")
        r["handler"] = handler
        out.append(r)
    return out


HONEST = [1000 + 37 * i + (i % 7) * 0.5 for i in range(400)]  # amounts from pay sheets: almost never round


def test_a_handler_with_many_round_thousands_is_flagged():
    rows = book(HONEST, "张会计") + book([1000, 2000, 3000, 5000, 8000, 2000, 3000, 4000, 6000, 1000, 2000, 7000],
                                       "李副主任", start=1000)
    (ld,) = RoundAmounts().detect(data(ledger=rows))
    assert ld.key == ("李副主任", "2024") and ld.details["round"] == 12 and ld.details["payments"] == 12
    assert "疑点" in ld.title and "整千元" in ld.title and "全县" in ld.explanation and len(ld.evidence) == 12


def test_a_few_round_amounts_are_normal():
    rows = book(HONEST, "张会计") + book([2000, 3000, 1234.5, 2876, 4411, 1999], "李副主任", start=1000)
    assert RoundAmounts().detect(data(ledger=rows)) == []


def test_round_amounts_spread_like_the_county_are_not_flagged():
    # every handler pays a round monthly fee: the county's share is high, so nobody stands out
    rows = []
    for h in ("甲", "乙", "丙"):
        rows += book(HONEST[:100] + [3000] * 12, h, start=len(rows))
    assert RoundAmounts().detect(data(ledger=rows)) == []


def test_payroll_is_left_out():
    rows = book(HONEST, "张会计") + [dict(r, summary="发放村干部报酬") for r in book([3000] * 30, "李副主任", start=1000)]
    assert RoundAmounts().detect(data(ledger=rows)) == []
