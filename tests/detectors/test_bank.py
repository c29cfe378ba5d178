"""Bank statements: ledger ↔ bank matching and the four bank detectors, on hand-written tables."""

from __future__ import annotations

import pandas as pd

from sanzi_audit.detectors.bank_payee_mismatch import BankPayeeMismatch
from sanzi_audit.detectors.bank_round_trips import BankRoundTrips
from sanzi_audit.detectors.bank_unbooked import BankUnbooked
from sanzi_audit.detectors.examples import BANK_ACCOUNT
from sanzi_audit.detectors.examples import bank_receipt as receipt
from sanzi_audit.detectors.examples import bank_row as row
from sanzi_audit.detectors.ledger_unbanked import LedgerUnbanked

from .helpers import V, data

ACCT = BANK_ACCOUNT


def voucher(no, date, amount, payee=None, expense="213001", pid=None, lines=None, summary="支付临时用工劳务费"):
    """A payment voucher: the expense line(s) and the bank credit."""
    lines = lines or [(payee, amount, pid)]
    out = [dict(entry_id=f"{no}-{i}", village_code=V, voucher_no=no, line_no=str(i), entry_date=date,
                account_code=expense, debit=a, credit=0.0, counterparty=p, counterparty_id=q, summary=summary)
           for i, (p, a, q) in enumerate(lines, start=1)]
    out.append(dict(entry_id=f"{no}-9", village_code=V, voucher_no=no, line_no="9", entry_date=date,
                    account_code="102001", debit=0.0, credit=round(sum(a for _, a, _ in lines), 2), summary=summary))
    return out


# a statement from January to December, so every booked date lies inside it
FRAME = [row("B0", "2024-01-02", inn=100.0, name="演示县财政局", account="9001"),
         row("B99", "2024-12-30", out=10.0, summary="手续费")]
BOOKS = [*receipt("R0", "2024-01-02", 100.0, "演示县财政局"), *voucher("V99", "2024-12-31", 10.0, "演示县农村商业银行",
                                                                   summary="支付12月银行手续费")]


def test_books_a_few_days_after_the_bank_and_a_day_of_transfers_for_one_voucher_match():
    ledger = [*BOOKS, *voucher("V1", "2024-03-08", 1200.0, "张三"),
              *voucher("V2", "2024-03-25", 0, lines=[("李四", 3000.0, None), ("王五", 3500.0, None)],
                       expense="212001", summary="发放3月村干部报酬")]
    bank = [*FRAME, row("B1", "2024-03-05", out=1200.0, name="张三", account="6228001"),
            row("B2", "2024-03-25", out=3000.0, name="李四", account="6228002", summary="代发"),
            row("B3", "2024-03-25", out=3500.0, name="王五", account="6228003", summary="代发")]
    d = data(ledger=ledger, bank=bank)
    m = d.bank_match
    assert dict(zip(m.pairs["txn_id"], m.pairs["how"], strict=True)) == {
        "B0": "exact", "B1": "exact", "B2": "bank_rows_summed", "B3": "bank_rows_summed", "B99": "fees_of_month"}
    assert m.unbooked.empty and m.unbanked(0).empty
    # each cadre's line reads the account the bank paid
    pay = d.payments.set_index("entry_id")
    assert pay.at["V2-1", "counterparty_account"] == "6228002" and pay.at["V2-2", "counterparty_account"] == "6228003"
    assert BankUnbooked().detect(d) == [] and LedgerUnbanked().detect(d) == []


def test_money_out_and_in_with_no_ledger_line_is_a_lead_but_fees_own_transfers_and_returns_are_not():
    bank = [*FRAME,
            row("X1", "2024-05-10", out=26000.0, name="赵六", account="6228009", summary="网银转账", purpose="往来款"),
            row("X2", "2024-06-10", inn=16600.0, name="新塘村砂石场", account="3300001", summary="转账收入", purpose="租金"),
            # honest: fees the books sum later, a transfer to the village's own 专户, a payment the bank returned
            row("F1", "2024-05-11", out=20.0, summary="短信服务费"),
            row("O1", "2024-07-01", out=50000.0, name="新塘村股份经济合作社", account="202101200000000002"),
            row("T1", "2024-08-01", out=900.0, name="钱七", account="6228010"),
            row("T2", "2024-08-02", inn=900.0, name="钱七", account="6228010", summary="退汇", purpose="户名不符")]
    d = data(ledger=BOOKS, bank=bank)
    leads = {ld.key: ld for ld in BankUnbooked().detect(d)}
    assert set(leads) == {("unbooked", "out", "6228009"), ("unbooked", "in", "3300001")}
    out = leads[("unbooked", "out", "6228009")]
    assert out.evidence == [("bank", "X1")] and "账外支出" in out.title and "排除" in out.explanation


def test_a_booked_bank_payment_the_bank_never_made_is_a_lead_inside_the_statement_period_only():
    ledger = [*BOOKS, *voucher("V5", "2024-06-18", 2400.0, "孙小红", pid="330599198001010011"),
              *voucher("V6", "2024-12-31", 2400.0, "周八")]  # after the statement ends: not judged
    d = data(ledger=ledger, bank=FRAME)
    leads = LedgerUnbanked().detect(d)
    assert [ld.key for ld in leads] == [("unbanked", "孙小红")]
    assert set(leads[0].evidence) == {("ledger", "V5-9"), ("ledger", "V5-1")}


def test_payee_mismatch_flags_another_holder_but_not_the_household_or_the_shop_owner():
    residents = [dict(person_id="330599195001010011", name="王洋", village_code=V, household_id="H1"),
                 dict(person_id="330599194801010012", name="王建平", village_code=V, household_id="H1"),
                 dict(person_id="330599198001010013", name="吴建", village_code=V, household_id="H2"),
                 dict(person_id="330599198501010014", name="刘健", village_code=V, household_id="H3")]
    officials = [dict(person_id="330599198501010014", name="刘健", village_code=V, related_to="330599196001010015",
                      relation="配偶"),
                 dict(person_id="330599196001010015", name="刘大", village_code=V, role="村委会主任", relation="本人")]
    ledger = [*BOOKS, *voucher("V1", "2024-04-01", 2000.0, "吴建", pid="330599198001010013"),
              *voucher("V2", "2024-04-02", 1500.0, "王洋", pid="330599195001010011"),
              *voucher("V3", "2024-04-03", 800.0, "演示县张三五金店", expense="513001")]
    bank = [*FRAME, row("B1", "2024-04-01", out=2000.0, name="刘健", account="6228777"),
            row("B2", "2024-04-02", out=1500.0, name="王建平", account="6228778"),  # spouse's account: same household
            row("B3", "2024-04-03", out=800.0, name="张三", account="6228779")]  # the shop's owner
    d = data(ledger=ledger, bank=bank, residents=residents, officials=officials)
    leads = BankPayeeMismatch().detect(d)
    assert [ld.key for ld in leads] == [("payee_mismatch", "6228777")]
    ld = leads[0]
    assert "村委会主任刘大的配偶" in ld.explanation and ld.score >= 0.8
    assert ("bank", "B1") in ld.evidence and ("ledger", "V1-1") in ld.evidence


def test_round_trip_to_a_person_is_a_lead_but_a_returned_payment_is_not():
    bank = [*FRAME, row("A1", "2024-06-10", out=64000.0, name="朱强", account="6228100", purpose="借款"),
            row("A2", "2024-06-17", inn=64000.0, name="朱强", account="6228100", summary="转账收入", purpose="还款"),
            row("R1", "2024-07-01", out=9000.0, name="钱七", account="6228101"),
            row("R2", "2024-07-02", inn=9000.0, name="钱七", account="6228101", summary="退汇")]
    d = data(ledger=BOOKS, bank=bank)
    leads = BankRoundTrips().detect(d)
    assert [ld.evidence for ld in leads] == [[("bank", "A1"), ("bank", "A2")]]
    assert "7 天后转回" in leads[0].title and leads[0].details["booked"] is False


def test_shared_accounts_reads_the_bank_when_the_ledger_has_no_payee_accounts():
    from sanzi_audit.detectors.shared_accounts import SharedAccounts

    ledger, bank = list(BOOKS), list(FRAME)
    for i, name in enumerate(["甲一", "乙二", "丙三"]):
        ledger += voucher(f"L{i}", f"2024-05-{10 + i:02d}", 1000.0 + i, name)
        bank.append(row(f"L{i}b", f"2024-05-{10 + i:02d}", out=1000.0 + i, name="丁四", account="6228555"))
    d = data(ledger=ledger, bank=bank)
    assert d["ledger"]["counterparty_account"].isna().all()
    leads = SharedAccounts().detect(d)
    assert [ld.details["account"] for ld in leads] == ["6228555"]


def test_matching_is_one_to_one_and_prefers_books_dated_after_the_bank():
    # four withdrawals of one amount, the bank a few days ahead of two of them: greedy nearest would strand one
    ledger = list(BOOKS)
    for no, day in (("W1", "2024-03-04"), ("W2", "2024-03-13"), ("W3", "2024-03-22"), ("W4", "2024-03-25")):
        ledger += voucher(no, day, 2000.0, None, expense="101001", summary="提取备用金")
    bank = [*FRAME] + [row(f"b{k}", day, out=2000.0, summary="现金支取") for k, day in
                       enumerate(["2024-03-04", "2024-03-13", "2024-03-16", "2024-03-23"])]
    m = data(ledger=ledger, bank=bank).bank_match
    assert m.unbanked(0).empty and m.unbooked.empty
    assert m.pairs["txn_id"].is_unique and m.pairs["entry_id"].is_unique


def test_balance_breaks_name_the_row_and_newest_first_statements_chain():
    from sanzi_audit.validate import balance_breaks

    def typed(rows):
        df = pd.DataFrame(rows, columns=["amount_out", "amount_in", "balance"])
        df["account_no"] = ACCT
        return df

    meta = pd.DataFrame({"_file": ["a.xlsx"] * 4, "_sheet": [None] * 4})
    ok = typed([(None, 1000.0, 11000.0), (200.0, None, 10800.0), (300.0, None, 10500.0), (None, 50.0, 10550.0)])
    assert balance_breaks(ok, meta).isna().all()
    assert balance_breaks(ok.iloc[::-1].reset_index(drop=True), meta).isna().all()  # newest first
    gap = typed([(None, 1000.0, 11000.0), (200.0, None, 10800.0), (300.0, None, 9500.0), (None, 50.0, 9550.0)])
    why = balance_breaks(gap, meta)
    assert why.notna().tolist() == [False, False, True, False]
    assert "余额应为 10,500.00" in why.iat[2] and "差 -1,000.00" in why.iat[2]
