import pytest

from sanzi_audit.detectors.split_contracts import SplitContracts

from .helpers import contract, data, pay

CO = "演示县安永建筑工程有限公司"
CASES = [
    ("two pieces at 90% and 95% a month apart", [("2024-03-01", 90000), ("2024-04-01", 95000)], True),
    ("five pieces within 90 days", [("2024-05-01", 30000), ("2024-05-20", 32000), ("2024-06-10", 31000),
                                    ("2024-07-01", 33000), ("2024-07-25", 30500)], True),
    ("two pieces 200 days apart (honest look-alike)", [("2024-01-10", 90000), ("2024-07-28", 95000)], False),
    ("two small pieces whose total stays under the limit", [("2024-03-01", 40000), ("2024-03-20", 45000)], False),
    ("one piece above the limit is not a split", [("2024-03-01", 150000), ("2024-03-05", 95000)], False),
]


@pytest.mark.parametrize("desc,pieces,flagged", CASES, ids=[c[0] for c in CASES])
def test_split_cases(desc, pieces, flagged):
    rows = [contract(f"HT{i}", d, a, CO, title=f"3组道路硬化（{i}期）") for i, (d, a) in enumerate(pieces)]
    leads = [ld for ld in SplitContracts().detect(data(contracts=rows, ledger=[])) if ld.key[0] == "split"]
    assert bool(leads) == flagged
    if flagged:
        ld = leads[0]
        assert {r for _, r in ld.evidence} >= {f"HT{i}" for i in range(len(pieces))}
        assert "10万元" in ld.explanation and "疑点" in ld.explanation


def test_pieces_below_min_piece_share_are_not_counted():
    rows = [contract("A", "2024-03-01", 90000, CO), contract("B", "2024-03-10", 29000, CO)]
    leads = SplitContracts().detect(data(contracts=rows, ledger=[]))
    assert not any(ld.key[0] == "split" for ld in leads)  # 29% of the limit: below the 30% default
    low = SplitContracts(SplitContracts.Params(min_piece_share=0.2)).detect(data(contracts=rows, ledger=[]))
    assert any(ld.key[0] == "split" for ld in low)


def test_name_variants_of_one_company_are_one_vendor():
    rows = [contract("A", "2024-03-01", 90000, CO, vendor_id="91330599AAAAAAAAA1"),
            contract("B", "2024-03-15", 92000, "安永建筑工程有限责任公司", vendor_id="91330599AAAAAAAAA1")]
    leads = SplitContracts().detect(data(contracts=rows, ledger=[]))
    assert [ld.key[0] for ld in leads] == ["split"]
    assert "名称写法不一" in leads[0].explanation


def test_decision_record_lowers_the_score():
    base = [contract("A", "2024-03-01", 90000, CO), contract("B", "2024-03-15", 92000, CO)]
    with_ref = [dict(r, decision_ref="JY2024-01") for r in base]
    s1 = SplitContracts().detect(data(contracts=base, ledger=[]))[0].score
    s2 = SplitContracts().detect(data(contracts=with_ref, ledger=[]))[0].score
    assert s2 < s1


def test_unregistered_payments_are_split_too_and_installments_are_one_job():
    ledger = [pay("e1", "2024-03-01", 90000, CO), pay("e2", "2024-03-20", 95000, CO),
              pay("e3", "2024-04-01", 30000, CO, contract_no="HTX"), pay("e4", "2024-05-01", 60000, CO, contract_no="HTX")]
    leads = SplitContracts().detect(data(ledger=ledger))
    splits = [ld for ld in leads if ld.key[0] == "split"]
    assert len(splits) == 1
    assert {r for _, r in splits[0].evidence} == {"e1", "e2", "e3", "e4"}  # HTX (9万 in two instalments) is a piece


def test_region_threshold_comes_from_config(tmp_path):
    from sanzi_audit.config import load_config
    from sanzi_audit.detectors.base import DetectorInput
    from sanzi_audit.testing import frame

    f = tmp_path / "c.yaml"
    f.write_text("thresholds:\n  tender_limit: {工程: 30000}\n", encoding="utf-8")
    rows = [contract("A", "2024-03-01", 25000, CO), contract("B", "2024-03-20", 28000, CO)]
    d = DetectorInput({"contracts": frame("contracts", rows), "ledger": frame("ledger", [])}, load_config(f))
    assert any(ld.key[0] == "split" for ld in SplitContracts().detect(d))
    assert not any(ld.key[0] == "split" for ld in SplitContracts().detect(data(contracts=rows, ledger=[])))


def test_one_job_spread_over_two_vendors_is_a_split_but_two_sites_are_not():
    rows = [contract("A", "2024-03-01", 90000, CO, title="3组道路硬化（一期）"),
            contract("B", "2024-03-20", 85000, "演示县平安土石方有限公司", title="3组道路硬化（二期）"),
            contract("C", "2024-03-05", 90000, "演示县东湾水利工程有限公司", title="5组排水沟修建工程"),
            contract("D", "2024-03-25", 88000, "演示县新桥水利工程有限公司", title="7组排水沟修建工程")]
    splits = [ld for ld in SplitContracts().detect(data(contracts=rows, ledger=[])) if ld.key[0].startswith("split")]
    assert [sorted(r for _, r in ld.evidence) for ld in splits] == [["A", "B"]]
    assert splits[0].details["same_job"] and "3组道路硬化" in splits[0].explanation


def test_unreferenced_instalments_that_make_up_a_small_contract_belong_to_it():
    """An 80,000元 询价 contract paid 30/60/10% with no contract number on the payments: one job, not a split of
    the contract and its own instalments."""
    from .helpers import contract as con

    c = [con("H1", "2024-03-01", 80000, "演示县兴湾建筑工程有限公司", method="询价")]
    rows = [pay("a", "2024-03-20", 24000, "演示县兴湾建筑工程有限公司", summary="支付3组道路硬化工程进度款"),
            pay("b", "2024-05-10", 48000, "演示县兴湾建筑工程有限公司", summary="支付3组道路硬化工程进度款"),
            pay("c", "2024-07-01", 8000, "演示县兴湾建筑工程有限公司", summary="支付3组道路硬化工程尾款")]
    leads = SplitContracts().detect(data(contracts=c, ledger=rows))
    assert not [ld for ld in leads if ld.key[0] == "split"], [ld.title for ld in leads]
    # the same payments beside a contract they do not make up stay pieces
    c2 = [con("H1", "2024-03-01", 30000, "演示县兴湾建筑工程有限公司", method="询价")]
    rows2 = [pay("a", "2024-03-20", 62000, "演示县兴湾建筑工程有限公司", summary="支付3组道路硬化工程款"),
             pay("b", "2024-04-10", 58000, "演示县兴湾建筑工程有限公司", summary="支付3组道路硬化附属工程款")]
    assert [ld for ld in SplitContracts().detect(data(contracts=c2, ledger=rows2)) if ld.key[0] == "split"]


def test_works_booked_through_an_unnamed_payable_take_the_vendor_it_is_paid_to_later():
    """Some 三资 layouts leave the 应付款 line of a works voucher unnamed: the vendor is whoever the payable is paid to
    (same amount, within half a year). Two such jobs under the limit make a split."""
    def accrual(no, date, amount, title):
        return [dict(entry_id=f"{no}-1", village_code="330599101200", voucher_no=no, line_no="1", entry_date=date,
                     account_code="153002", debit=amount, credit=0.0, summary=f"{title}完工结算"),
                dict(entry_id=f"{no}-2", village_code="330599101200", voucher_no=no, line_no="2", entry_date=date,
                     account_code="211001", debit=0.0, credit=amount, summary=f"{title}完工结算")]

    def paid(no, date, amount):
        return [dict(entry_id=f"{no}-1", village_code="330599101200", voucher_no=no, line_no="1", entry_date=date,
                     account_code="211001", debit=amount, credit=0.0, counterparty=CO, summary=f"支付{CO}工程款"),
                dict(entry_id=f"{no}-2", village_code="330599101200", voucher_no=no, line_no="2", entry_date=date,
                     account_code="102001", debit=0.0, credit=amount, summary=f"支付{CO}工程款")]
    ledger = [*accrual("W1", "2024-03-19", 65800.0, "3组排水沟修建"), *paid("P1", "2024-04-25", 65800.0),
              *accrual("W2", "2024-04-30", 91200.0, "3组排水沟修建附属工程"), *paid("P2", "2024-06-07", 91200.0)]
    leads = [ld for ld in SplitContracts().detect(data(ledger=ledger)) if "化整为零" in ld.title]
    assert len(leads) == 1
    assert {"W1-1", "W2-1", "P1-1", "P2-1"} <= {r for _, r in leads[0].evidence}
