"""Benford first-digit tests: conforming books pass, invented amounts are flagged, small samples are withheld."""

import numpy as np

from sanzi_audit.detectors.benford import FIRST, Benford, expected_mad

from .helpers import V2, V, pay


def benford_amounts(n, seed):
    """Log-uniform over two decades: leading digits follow Benford's law."""
    return np.exp(np.random.default_rng(seed).uniform(np.log(100), np.log(10000), n)).round(2)


def invented_amounts(n, seed):
    rng = np.random.default_rng(seed)
    first = rng.choice(np.arange(1, 10), n, p=[0.03, 0.04, 0.08, 0.12, 0.15, 0.16, 0.16, 0.14, 0.12])
    return (first * 100 + rng.integers(0, 100, n)).astype(float)


def ledger(amounts, handler="张会计", village=V, summary="付款", start=0):
    rows = []
    for i, a in enumerate(amounts):
        r = pay(f"{village}-{handler}-{start + i}", f"2024-{i % 12 + 1:02d}-{i % 27 + 1:02d}", float(a), f"收款人{i % 50}",
                "513001", village_code=village, summary=summary)
        r["handler"] = handler
        rows.append(r)
    return rows


def detect(rows, **params):
    from .helpers import data

    det = Benford(Benford.Params(**params))
    return det.detect(data(ledger=rows)), det


def test_conforming_books_are_left_alone():
    leads, _ = detect(ledger(benford_amounts(1500, 1)))
    assert leads == []


def test_a_village_of_invented_amounts_is_flagged_with_the_digits():
    (ld,), _ = detect(ledger(invented_amounts(600, 2)))
    assert ld.key == ("village", "2024") and "疑点" in ld.title and "600 笔" in ld.title
    assert ld.details["mad_first"] > ld.details["line_first"] >= 0.015
    assert "本福特" in ld.explanation and "首位" in ld.explanation
    assert 0 < len(ld.evidence) <= 40


def test_a_second_handler_inventing_amounts_is_flagged_alone():
    rows = ledger(benford_amounts(1500, 3)) + ledger(invented_amounts(160, 4), handler="李主任", start=5000)
    leads, _ = detect(rows)
    assert [ld.key for ld in leads] == [("handler", "李主任", "2024")]
    assert "经办人“李主任”" in leads[0].title


def test_small_villages_are_pooled_by_township_and_tiny_pools_withheld():
    # two villages of the same township with 200 invented amounts each: pooled to 400 ≥ min_sample
    rows = ledger(invented_amounts(200, 5)) + ledger(invented_amounts(200, 6), village=V2)
    leads, _ = detect(rows)
    assert len(leads) == 1 and leads[0].key == ("township", V[:9], "2024") and "2 个小村合并" in leads[0].title
    leads, det = detect(ledger(invented_amounts(120, 7)))
    assert leads == [] and "样本过少" in det.notes[0] and "120" in det.notes[0]


def test_payroll_is_left_out():
    rows = ledger(benford_amounts(1500, 8)) + ledger([3000.0] * 300, summary="发放村干部报酬", start=9000)
    assert detect(rows)[0] == []
    assert len(detect(rows, exclude_keywords=())[0]) == 1


def test_expected_mad_shrinks_with_the_sample():
    assert expected_mad(FIRST, 100) > expected_mad(FIRST, 1000) > expected_mad(FIRST, 10000)
    # a conforming sample's MAD is near its expectation (simulated)
    rng = np.random.default_rng(0)
    mads = []
    for _ in range(200):
        d = (10 ** rng.uniform(0, 1, 500)).astype(int)
        obs = np.bincount(d, minlength=10)[1:] / 500
        mads.append(np.abs(obs - FIRST).mean())
    assert abs(np.mean(mads) - expected_mad(FIRST, 500)) < 0.002
