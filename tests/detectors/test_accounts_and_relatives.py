from sanzi_audit.detectors.related_party_payees import RelatedPartyPayees
from sanzi_audit.detectors.shared_accounts import SharedAccounts

from .helpers import V, contract, data, pay

CADRE = dict(person_id="330599197001011234", name="何强", village_code=V, role="党支部书记", relation="本人")
SON = dict(person_id="330599199501011235", name="何超", village_code=V, related_to=CADRE["person_id"], relation="子女")
SALARY = pay("s1", "2024-01-25", 3000, "何强", "212001", counterparty_id=CADRE["person_id"],
             counterparty_account="6228480000000000001")


def test_one_account_many_names_is_flagged_and_a_couple_is_not():
    acct = "6228489999999999999"
    many = [pay(f"m{i}", "2024-03-01", 1500, n, "213001", counterparty_account=acct)
            for i, n in enumerate(["甲一", "乙二", "丙三"])]
    couple = [pay("c1", "2024-03-01", 800, "丁四", "213001", counterparty_id="P1", counterparty_account="A2"),
              pay("c2", "2024-03-02", 900, "戊五", "213001", counterparty_id="P2", counterparty_account="A2")]
    residents = [dict(person_id="P1", village_code=V, household_id="H1"),
                 dict(person_id="P2", village_code=V, household_id="H1")]
    leads = SharedAccounts().detect(data(ledger=many + couple, residents=residents))
    assert [ld.details["account"] for ld in leads] == [acct]


def test_claims_into_a_cadres_account():
    claims = [dict(claim_id=f"c{i}", village_code=V, program="城乡居民基础养老金", period="2024-01", claimant_name=f"人{i}",
                   claimant_id=f"33059919400101{i:04d}", bank_account="6228480000000000001", amount=240,
                   pay_date="2024-01-15") for i in range(3)]
    leads = SharedAccounts().detect(data(ledger=[SALARY], claims=claims, officials=[CADRE]))
    (ld,) = leads
    assert ld.details["cadre_linked"] and "何强" in ld.explanation and ld.score >= 0.8


def test_relative_as_contractor_by_id_by_account_and_not_a_namesake():
    by_id = [contract("HT1", "2024-03-01", 60000, "何超", vendor_id=SON["person_id"])]
    leads = RelatedPartyPayees().detect(data(ledger=[SALARY], contracts=by_id, officials=[CADRE, SON]))
    assert len(leads) == 1 and "子女" in leads[0].title and leads[0].details["matched_by"] == ["身份证号"]

    namesake = [contract("HT2", "2024-03-01", 60000, "何超", vendor_id="330599198001019999")]
    assert RelatedPartyPayees().detect(data(ledger=[SALARY], contracts=namesake, officials=[CADRE, SON])) == []

    # a sole trader's name, no ID: matched by name in the same village, at a lower score
    by_name = [contract("HT3", "2024-03-01", 60000, "演示县何超建材经营部")]
    (ld,) = RelatedPartyPayees().detect(data(ledger=[SALARY], contracts=by_name, officials=[CADRE, SON]))
    assert ld.details["matched_by"] == ["姓名"]


def test_cadres_own_pay_is_not_favouritism():
    assert RelatedPartyPayees().detect(data(ledger=[SALARY], officials=[CADRE, SON])) == []


def test_other_names_paid_into_a_relatives_account():
    son_pay = pay("p0", "2024-02-01", 1000, "何超", "213001", counterparty_id=SON["person_id"],
                  counterparty_account="ACC-SON")
    others = [pay(f"p{i}", "2024-03-01", 1500, n, "213001", counterparty_account="ACC-SON")
              for i, n in enumerate(["甲一", "乙二"], start=1)]
    (ld,) = RelatedPartyPayees().detect(data(ledger=[SALARY, son_pay] + others, officials=[CADRE, SON]))
    assert ld.score >= 0.75 and "银行账号" in ld.details["matched_by"]


def test_purchases_from_a_relatives_shop_named_after_them_are_a_favour():
    from sanzi_audit.detectors.related_party_payees import RelatedPartyPayees

    from .helpers import V, data, pay

    officials = [dict(person_id="330599197001010022", name="李书记", village_code=V, role="党支部书记",
                      related_to=None, relation="本人"),
                 dict(person_id="33059919861118055X", name="许秀华", village_code=V, role=None,
                      related_to="330599197001010022", relation="兄弟姐妹")]
    shop = [pay(f"s{i}", f"2024-{i + 1:02d}-10", 600.0 + i, "演示县许秀华水电维修部", "513001",
                summary="购买水电材料") for i in range(8)]
    (ld,) = RelatedPartyPayees().detect(data(ledger=shop, officials=officials))
    assert "经营的店铺" in ld.title and "店名" in ld.details["matched_by"]
    # a namesake's shop in another village is no match
    other = [dict(r, village_code="330599101201") for r in shop]
    assert RelatedPartyPayees().detect(data(ledger=other, officials=officials)) == []


def test_a_company_the_cadre_register_names_as_a_relatives_employer_is_a_favour():
    from sanzi_audit.detectors.related_party_payees import RelatedPartyPayees

    from .helpers import V, contract, data

    officials = [dict(person_id="330599197001010022", name="李书记", village_code=V, role="党支部书记",
                      related_to=None, relation="本人"),
                 dict(person_id="330599197201010033", name="赵某", village_code=V, role=None,
                      related_to="330599197001010022", relation="配偶", employer="演示县庄头建材有限公司")]
    cons = [contract("H1", "2024-03-01", 45000, "庄头建材有限公司", method="直接发包")]
    (ld,) = RelatedPartyPayees().detect(data(contracts=cons, ledger=[], officials=officials))
    assert "工作单位" in ld.details["matched_by"] and "赵某" in ld.explanation
