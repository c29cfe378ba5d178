import pytest

from sanzi_audit.detectors.contract_overpayment import ContractOverpayment
from sanzi_audit.detectors.hospitality_spending import HospitalitySpending

from .helpers import contract, data, pay

HOSPITALITY = [
    ("meals for an inspection booked as office costs", "接待上级检查工作餐费", 1),
    ("tobacco and alcohol", "购买烟酒", 1),
    ("the elderly canteen's rice and oil (honest)", "老年食堂购买米面油", 0),
    ("ordinary office supplies (honest)", "购买办公用品", 0),
]


@pytest.mark.parametrize("desc,summary,n", HOSPITALITY, ids=[c[0] for c in HOSPITALITY])
def test_hospitality_cases(desc, summary, n):
    ledger = [pay("e1", "2024-03-01", 1200, "某饭店", "513001", summary=summary)]
    assert len(HospitalitySpending().detect(data(ledger=ledger))) == n


def test_hospitality_is_not_flagged_where_the_region_allows_it():
    ledger = [pay("e1", "2024-03-01", 1200, "某饭店", "513001", summary="宴请施工方")]
    det = HospitalitySpending(HospitalitySpending.Params(forbidden=False))
    assert det.detect(data(ledger=ledger)) == []


def test_hospitality_one_lead_per_village_year_naming_the_words():
    ledger = [pay("e1", "2024-03-01", 1200, "某饭店", "513001", summary="宴请施工方"),
              pay("e2", "2024-09-01", 800, "超市", "513001", summary="中秋礼品")]
    (ld,) = HospitalitySpending().detect(data(ledger=ledger))
    assert ld.details["payments"] == 2 and "礼品" in ld.explanation and "宴请" in ld.explanation


def paid(no, amounts):
    return [pay(f"p{i}", f"2024-0{i + 3}-01", a, "某建筑公司", "153001", contract_no=no) for i, a in enumerate(amounts)]


OVER = [
    ("paid exactly the contract amount (honest)", [30000, 70000], 0),
    ("paid 3% more: within tolerance (honest)", [30000, 73000], 0),
    ("paid 20% more", [30000, 70000, 20000], 1),
]


@pytest.mark.parametrize("desc,amounts,n", OVER, ids=[c[0] for c in OVER])
def test_overpayment_cases(desc, amounts, n):
    d = data(ledger=paid("HT1", amounts), contracts=[contract("HT1", "2024-02-01", 100000, "某建筑公司")])
    leads = ContractOverpayment().detect(d)
    assert len(leads) == n
    if n:
        assert ("contracts", "HT1") in leads[0].evidence and leads[0].amount_at_risk == pytest.approx(20000)


def test_payments_citing_an_unregistered_contract():
    d = data(ledger=paid("HT-GHOST", [8000, 9000]), contracts=[contract("HT1", "2024-02-01", 100000, "某建筑公司")])
    (ld,) = ContractOverpayment().detect(d)
    assert "不在合同台账" in ld.title and ld.details["paid"] == 17000


# ---- 无合同大额付款 ------------------------------------------------------------------------------------------
def test_uncontracted_payments():
    from sanzi_audit.detectors.uncontracted_payments import UncontractedPayments

    rows = [pay("a", "2024-03-01", 150000, "某建设公司", "153001"),                      # works, 10万 limit: flagged
            pay("b", "2024-03-02", 150000, "某建设公司", "153001", contract_no="HT1"),   # has a contract
            pay("c", "2024-03-03", 60000, "某商店", "121001"),                          # goods, 5万 limit: flagged
            pay("d", "2024-03-04", 40000, "某商店", "121001"),                          # under the limit
            pay("e", "2024-03-05", 90000, "某建设公司", "153001")]                        # under the works limit
    leads = UncontractedPayments().detect(data(ledger=rows))
    assert sorted(ld.key[0] for ld in leads) == ["a", "c"]
    a = next(ld for ld in leads if ld.key == ("a",))
    assert "疑点" in a.title and "合同编号" in a.explanation and a.details == {"limit": 100000.0, "category": "工程"}
