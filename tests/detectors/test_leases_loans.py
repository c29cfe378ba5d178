"""Leases, late contracts and loans, from the books and the contract register alone."""

from __future__ import annotations

from sanzi_audit.detectors.collective_loans import CollectiveLoans
from sanzi_audit.detectors.contract_signed_late import ContractSignedLate
from sanzi_audit.detectors.examples import bank_receipt, books_of_2024, lease
from sanzi_audit.detectors.lease_overdue import LeaseOverdue
from sanzi_audit.detectors.lease_terms import LeaseTerms

from .helpers import V, data


def receipt(no, date, amount, payer, contract_no=None, summary="收到租金"):
    return bank_receipt(no, date, amount, payer, summary, contract_no=contract_no)


# the books run through 2024
YEAR = books_of_2024()


def test_lease_terms_over_twenty_years_but_wasteland_up_to_fifty():
    contracts = [lease("L1", "2022-03-01", 30, 20000), lease("L2", "2021-04-01", 40, 3000, title="后山荒山承包"),
                 lease("L3", "2024-01-01", 20, 8000)]
    leads = LeaseTerms().detect(data(contracts=contracts))
    assert [ld.key for ld in leads] == [("term", "L1")]
    assert "民法典第七百零五条" in leads[0].explanation and leads[0].amount_at_risk == 200000


def test_rent_overdue_late_but_within_grace_and_expired_but_renewed():
    contracts = [lease("L1", "2023-05-01", 3, 12000, vendor="甲"),  # due 2024-05-01: nothing arrives
                 lease("L2", "2023-05-01", 3, 12000, vendor="乙"),  # due 2024-05-01: paid 25 days late
                 lease("L3", "2021-04-01", 3, 9000, vendor="丙", end_date="2024-03-31"),  # ended, still paying
                 lease("L4", "2021-04-01", 3, 9000, vendor="丁", end_date="2024-03-31"),  # ended, renewed
                 lease("L5", "2024-04-01", 3, 9000, vendor="丁")]
    ledger = [*YEAR, *receipt("V2", "2024-05-26", 12000.0, "乙", "L2"), *receipt("V3", "2024-09-10", 9000.0, "丙", "L3"),
              *receipt("V5", "2024-04-10", 9000.0, "丁", "L5")]
    leads = {ld.key: ld for ld in LeaseOverdue().detect(data(contracts=contracts, ledger=ledger))}
    assert set(leads) == {("lease_due", "L1"), ("lease_due", "L3")}
    assert "租金逾期未收" in leads[("lease_due", "L1")].title
    assert "合同到期未续签" in leads[("lease_due", "L3")].title
    assert ("ledger", "V3-2") in leads[("lease_due", "L3")].evidence


def test_contract_signed_a_month_after_its_first_payment_but_not_three_days():
    contracts = [dict(contract_no="HT1", village_code=V, title="3组道路硬化工程", category="工程", vendor="演示县甲建筑有限公司",
                      amount=50000, sign_date="2024-06-01"),
                 dict(contract_no="HT2", village_code=V, title="4组排水沟修建工程", category="工程", vendor="演示县乙建筑有限公司",
                      amount=40000, sign_date="2024-06-01")]
    ledger = [dict(entry_id="P1", village_code=V, voucher_no="P1", line_no="1", entry_date="2024-04-20", account_code="153003",
                   debit=20000.0, credit=0.0, counterparty="演示县甲建筑有限公司", contract_no="HT1", summary="预付款"),
              dict(entry_id="P2", village_code=V, voucher_no="P2", line_no="1", entry_date="2024-05-29", account_code="153003",
                   debit=12000.0, credit=0.0, counterparty="演示县乙建筑有限公司", contract_no="HT2", summary="预付款")]
    leads = ContractSignedLate().detect(data(contracts=contracts, ledger=ledger))
    assert [ld.key for ld in leads] == [("signed_late", "HT1")] and "签订前 42 天" in leads[0].title


def test_money_lent_to_a_villager_but_not_the_handlers_travel_advance():
    def voucher(no, date, account, amount, who, summary, pid=None, paid_by="102001"):
        return [dict(entry_id=f"{no}-1", village_code=V, voucher_no=no, line_no="1", entry_date=date, account_code=account,
                     debit=amount, credit=0.0, counterparty=who, counterparty_id=pid, summary=summary, handler="李会计"),
                dict(entry_id=f"{no}-2", village_code=V, voucher_no=no, line_no="2", entry_date=date, account_code=paid_by,
                     debit=0.0, credit=amount, summary=summary, handler="李会计")]
    ledger = [*voucher("L1", "2024-03-01", "112001", 30000.0, "王五", "借给王五个人借款"),
              *voucher("L2", "2024-03-02", "113001", 5000.0, "李会计", "李会计借支差旅费", paid_by="101001"),
              *voucher("L3", "2024-03-03", "112001", 50000.0, "演示县甲建筑有限公司", "借给施工单位周转")]
    leads = CollectiveLoans().detect(data(ledger=ledger))
    assert [ld.key for ld in leads] == [("loan", "王五")]
    assert leads[0].evidence == [("ledger", "L1-1"), ("ledger", "L1-2")]


def test_decisions_missing_written_after_the_payment_or_not_passed_but_a_budget_within_tolerance_is_the_contracts():
    from sanzi_audit.detectors.decision_missing import DecisionMissing

    def works(no, amount, ref=None, title="3组道路硬化工程"):
        return dict(contract_no=no, village_code=V, title=title, category="工程", vendor="演示县甲建筑有限公司",
                    amount=amount, sign_date="2024-05-01", decision_ref=ref, method="公开招标")
    contracts = [works("HT1", 150000, "ZB1"), works("HT2", 200000, "ZB2", "4组排水沟修建工程"),
                 works("HT3", 120000, None, "5组文化礼堂修缮工程"), works("HT4", 300000, "ZB4", "6组桥梁加固工程"),
                 works("HT5", 130000, None, "7组路灯安装工程"), works("HT6", 50000)]  # HT6: under the limit
    decisions = [dict(decision_id="ZB1", village_code=V, meeting_date="2024-04-10", subject="关于3组道路硬化工程的决议",
                      amount=160000, result="通过"),
                 dict(decision_id="ZB2", village_code=V, meeting_date="2024-07-01", subject="关于4组排水沟修建工程的决议",
                      amount=200000, result="通过"),  # after the first payment: 补做
                 dict(decision_id="D5", village_code=V, meeting_date="2024-04-01", subject="关于7组路灯安装的决议",
                      amount=120000, result="通过"),  # no number, but names the work and the budget is within 25%
                 dict(decision_id="ZB4", village_code=V, meeting_date="2024-04-01", subject="关于6组桥梁加固工程的决议",
                      amount=300000, result="未通过")]
    ledger = [dict(entry_id="P2", village_code=V, voucher_no="P2", line_no="1", entry_date="2024-05-20",
                   account_code="153001", debit=60000.0, credit=0.0, counterparty="演示县甲建筑有限公司", contract_no="HT2")]
    leads = {ld.key[1]: ld for ld in DecisionMissing().detect(data(contracts=contracts, decisions=decisions, ledger=ledger))}
    assert set(leads) == {"HT2", "HT3", "HT4"}
    assert "决策晚于付款" in leads["HT2"].title and ("decisions", "ZB2") in leads["HT2"].evidence
    assert "无决策记录" in leads["HT3"].title and "决议未通过仍实施" in leads["HT4"].title


def test_a_receivable_unmoved_for_two_years_but_not_one_repaid_or_moving():
    from sanzi_audit.detectors.stale_balances import StaleBalances

    def line(eid, date, account, debit, credit, who):
        return dict(entry_id=eid, village_code=V, voucher_no=eid, line_no="1", entry_date=date, account_code=account,
                    debit=debit, credit=credit, counterparty=who, summary="往来")
    ledger = [line("A1", "2021-03-01", "112001", 30000.0, 0.0, "王五"),  # lent in 2021, nothing since
              line("B1", "2021-03-01", "112001", 20000.0, 0.0, "赵六"), line("B2", "2022-01-10", "112001", 0.0, 20000.0, "赵六"),
              line("C1", "2021-05-01", "112001", 9000.0, 0.0, "钱七"), line("C2", "2024-06-01", "112001", 0.0, 1000.0, "钱七"),
              line("Z1", "2024-12-31", "513001", 100.0, 0.0, "演示县某商店")]
    leads = StaleBalances().detect(data(ledger=ledger))
    assert [ld.key for ld in leads] == [("stale", "receivable", "王五")]
    assert "3.8 年未变动" in leads[0].title


def test_a_payment_schedule_decides_the_dues_where_the_county_supplies_one():
    # 承包费 in two instalments a year; the second of 2024 never arrives. Without the schedule only the anniversary
    # would be due, and it was paid.
    contracts = [dict(contract_no="L9", village_code=V, title="后山鱼塘承包", category="资源发包", vendor="孙八",
                      amount=60000, sign_date="2023-03-01", start_date="2023-03-01", end_date="2026-02-28")]
    terms = [dict(contract_no="L9", period=f"{y}-{h}", amount_due=10000.0, due_date=d)
             for y, h, d in ((2024, 1, "2024-03-01"), (2024, 2, "2024-09-01"))]
    ledger = [*YEAR, *receipt("V9", "2024-03-05", 10000.0, "孙八", "L9")]
    leads = LeaseOverdue().detect(data(contracts=contracts, contract_terms=terms, ledger=ledger))
    assert [ld.key for ld in leads] == [("lease_due", "L9")]
    assert "2024-09-01 应收2024-2款项 1万元" in leads[0].explanation
    assert LeaseOverdue().detect(data(contracts=contracts, ledger=ledger)) == []  # no rent, no schedule: no dues
