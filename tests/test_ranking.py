import pytest

from sanzi_audit.config import load_config
from sanzi_audit.detectors.base import Lead
from sanzi_audit.ranking import priority, rank_leads


def lead(det, key, score, amount, evidence):
    return Lead(det, "330599101200", score, amount, "疑点", "疑点说明", evidence, key=(key,))


def test_leads_sharing_evidence_form_one_case_ranked_together():
    cfg = load_config()
    leads = [lead("split_contracts", "a", 0.7, 200000, [("contracts", "HT1"), ("contracts", "HT2")]),
             lead("related_party_payees", "b", 0.9, 200000, [("contracts", "HT2")]),
             lead("duplicate_payments", "c", 0.8, 300000, [("ledger", "e1")]),
             lead("shared_accounts", "d", 0.2, 100, [("ledger", "e9")])]
    df = rank_leads(leads, cfg)
    assert list(df["rank"]) == [1, 2, 3, 4]
    case = df.set_index("lead_id")["case_id"]
    ids = {ld.key[0]: ld.lead_id for ld in leads}
    assert case[ids["a"]] == case[ids["b"]] != case[ids["c"]]
    ranks = df.set_index("lead_id")["rank"]
    assert abs(ranks[ids["a"]] - ranks[ids["b"]]) == 1  # one case, read together
    assert ranks[ids["d"]] == 4
    assert df.equals(rank_leads(list(reversed(leads)), cfg))  # order of detection does not matter


def test_priority_formula():
    cfg = load_config()
    assert priority(1.0, cfg.ranking.amount_cap, 1.0, cfg) == 1.0
    assert priority(0.0, 0, 1.0, cfg) == 0.0
    assert priority(0.5, 10_000, 1.0, cfg) < priority(0.5, 100_000, 1.0, cfg)
    assert priority(0.5, 10_000, 0.5, cfg) == priority(0.5, 10_000, 1.0, cfg) / 2


def test_lead_id_is_stable_and_ignores_score():
    a = lead("split_contracts", "k", 0.5, 10, [("contracts", "x")])
    b = lead("split_contracts", "k", 0.9, 99, [("contracts", "x"), ("contracts", "y")])
    assert a.lead_id == b.lead_id and a.lead_id.startswith("split_contracts:")


def test_feedback_weighting_is_off_by_default_and_needs_enough_reviews(tmp_path):
    from sanzi_audit.ranking import feedback_weights

    shares = [dict(detector="split_contracts", township_code="t1", reviewed=15, confirmed=15),
              dict(detector="split_contracts", township_code="t2", reviewed=10, confirmed=5),
              dict(detector="vendor_concentration", township_code="t1", reviewed=5, confirmed=0)]
    assert feedback_weights(shares, load_config()) == {}
    f = tmp_path / "c.yaml"
    f.write_text("ranking: {feedback_weighting: true}\n", encoding="utf-8")
    cfg = load_config(f)
    assert feedback_weights(shares, cfg) == {"split_contracts": 0.5 + 20 / 25}  # 5 reviews: too few
    leads = [lead("split_contracts", "a", 0.5, 1000, [("ledger", "x")]),
             lead("vendor_concentration", "b", 0.5, 1000, [("ledger", "y")])]
    plain = rank_leads(leads, cfg).set_index("detector")["priority"]
    tuned = rank_leads(leads, cfg, feedback_weights(shares, cfg)).set_index("detector")["priority"]
    assert tuned["split_contracts"] == pytest.approx(plain["split_contracts"] * 1.3, rel=1e-4)
    assert tuned["vendor_concentration"] == plain["vendor_concentration"]


def test_a_case_several_detectors_flag_ranks_above_a_stronger_single_signal():
    from sanzi_audit.config import load_config
    from sanzi_audit.detectors.base import Lead
    from sanzi_audit.ranking import rank_leads

    def lead(det, key, score, ev):
        return Lead(det, "330599101200", score, 50_000, "t", "e", ev, key=(key,))

    leads = [lead("split_contracts", "a", 0.7, [("ledger", "x1"), ("ledger", "x2")]),
             lead("related_party_payees", "b", 0.7, [("ledger", "x1")]),  # the same money, another signal
             lead("duplicate_payments", "c", 0.8, [("ledger", "y1")])]
    ranked = rank_leads(leads, load_config())
    order = list(ranked["detector"])
    assert order.index("duplicate_payments") > order.index("split_contracts")
    assert order.index("duplicate_payments") > order.index("related_party_payees")
