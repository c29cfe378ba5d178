"""Program rules (config programs) and the registers of other departments, on hand-written tables."""

from __future__ import annotations

from sanzi_audit.detectors.claims_multi_card import ClaimsMultiCard
from sanzi_audit.detectors.exclusive_programs import ExclusivePrograms
from sanzi_audit.detectors.official_vendor_business import OfficialVendorBusiness
from sanzi_audit.detectors.register_benefits import RegisterBenefits
from sanzi_audit.detectors.selective_official_claims import SelectiveOfficialClaims

from .helpers import V, data

CADRE, WIFE, SON = "330599196001010015", "330599196201010026", "330599198801010037"
OFFICIALS = [dict(person_id=CADRE, name="刘大", village_code=V, role="村委会主任", relation="本人",
                  term_start="2021-01-01", term_end="2026-01-01"),
             dict(person_id=WIFE, name="王芳", village_code=V, related_to=CADRE, relation="配偶"),
             # a former cadre, out of office since mid-2023, and his son
             dict(person_id="330599195501010048", name="赵老", village_code=V, role="村委会委员", relation="本人",
                  term_start="2015-01-01", term_end="2023-06-30"),
             dict(person_id=SON, name="赵小", village_code=V, related_to="330599195501010048", relation="子女")]


def claim(cid, pid, program, month, amount=780.0, account="6228001", name="某人"):
    return dict(claim_id=cid, village_code=V, program=program, period=f"2024-{month:02d}", claimant_id=pid,
                claimant_name=name, bank_account=account, amount=amount, pay_date=f"2024-{month:02d}-15")


def test_a_relative_on_a_selective_program_is_a_lead_whatever_the_amount_but_not_universal_or_after_the_term():
    claims = [claim("C1", WIFE, "2024年农村低保金", 3, 300.0, name="王芳"),  # named as rolls name it: an alias
              claim("C2", WIFE, "城乡居民基础养老金", 3, 200.0, name="王芳"),  # universal
              claim("C3", SON, "最低生活保障金", 3, name="赵小")]  # the father left office in 2023
    leads = SelectiveOfficialClaims().detect(data(claims=claims, officials=OFFICIALS))
    assert [ld.evidence for ld in leads] == [[("claims", "C1"), ("officials", WIFE)]]
    assert "村委会主任刘大的配偶" in leads[0].title and "最低生活保障金" in leads[0].title


def test_exclusive_programs_in_the_same_month_but_not_a_move_from_one_to_the_other():
    p, q = "330599197001010011", "330599197101010022"
    claims = [claim("A1", p, "最低生活保障金", 3), claim("A2", p, "特困人员救助供养金", 3, 1050.0),
              claim("A3", p, "最低生活保障金", 4),
              claim("B1", q, "最低生活保障金", 5), claim("B2", q, "特困人员救助供养金", 6, 1050.0)]
    leads = ExclusivePrograms().detect(data(claims=claims))
    assert [ld.key for ld in leads] == [("exclusive", p, "最低生活保障金", "特困人员救助供养金")]
    assert set(leads[0].evidence) == {("claims", "A1"), ("claims", "A2")}


def test_two_cards_at_once_are_a_lead_but_a_card_replaced_mid_year_is_not():
    p, q = "330599197001010011", "330599197101010022"
    claims = [claim(f"P{m}", p, "城乡居民基础养老金", m, 260.0, "6228001") for m in range(1, 13)]
    claims += [claim(f"G{m}", p, "高龄津贴", m, 100.0, "6228999") for m in range(1, 13)]
    claims += [claim(f"Q{m}", q, "城乡居民基础养老金", m, 260.0, "6228002" if m < 7 else "6228003") for m in range(1, 13)]
    leads = ClaimsMultiCard().detect(data(claims=claims))
    assert [ld.key for ld in leads] == [("cards", p)]


def test_registers_held_on_the_pay_date_exclude_but_farm_vehicles_ended_jobs_and_one_home_do_not():
    head, wife = "330599197001010011", "330599197201010022"
    other = "330599197301010033"
    residents = [dict(person_id=head, name="张三", village_code=V, household_id="H1"),
                 dict(person_id=wife, name="李四", village_code=V, household_id="H1"),
                 dict(person_id=other, name="王五", village_code=V, household_id="H2")]
    claims = [claim("C1", head, "最低生活保障金", 3, name="张三"), claim("C2", other, "最低生活保障金", 3, name="王五")]
    vehicles = [dict(plate_no="浙J10001", owner_id=wife, owner_name="李四", vehicle_type="小型轿车", value=120000,
                     reg_date="2020-01-01"),
                dict(plate_no="浙J10002", owner_id=other, owner_name="王五", vehicle_type="三轮农用车", value=8000,
                     reg_date="2020-01-01")]
    employees = [dict(person_id=other, name="王五", employer="演示县第一中学", start_date="2008-09-01",
                      end_date="2022-07-31")]
    properties = [dict(property_id="P1", owner_id=other, address="本村", reg_date="2020-01-01")]
    d = data(claims=claims, residents=residents, vehicles=vehicles, public_employees=employees, properties=properties)
    leads = RegisterBenefits().detect(d)
    assert [ld.key for ld in leads] == [("register", head, "最低生活保障金")]
    assert ("vehicles", "浙J10001") in leads[0].evidence and "李四名下有车辆" in leads[0].explanation


def test_a_relative_behind_the_vendor_company_at_signing_but_not_after_leaving_it():
    firm, gone = "91330599MA2B00001X", "91330599MA2B00002Y"
    contracts = [dict(contract_no="HT1", village_code=V, vendor="演示县甲建筑有限公司", vendor_id=firm, amount=80000,
                      sign_date="2024-03-01", title="3组道路硬化工程", category="工程"),
                 dict(contract_no="HT2", village_code=V, vendor="演示县乙建筑有限公司", vendor_id=gone, amount=60000,
                      sign_date="2024-05-01", title="4组排水沟修建工程", category="工程")]
    people = [dict(link_id="L1", uscc=firm, person_id=WIFE, name="王芳", role="股东", start_date="2022-01-01"),
              dict(link_id="L2", uscc=gone, person_id=SON, name="赵小", role="法定代表人", start_date="2019-01-01",
                   end_date="2023-12-31")]
    d = data(contracts=contracts, business_people=people, officials=OFFICIALS,
             businesses=[dict(uscc=firm, name="演示县甲建筑有限公司"), dict(uscc=gone, name="演示县乙建筑有限公司")])
    leads = OfficialVendorBusiness().detect(d)
    assert [ld.key for ld in leads] == [("vendor_business", firm)]
    assert set(leads[0].evidence) == {("contracts", "HT1"), ("business_people", "L1")}
    assert "王芳（村委会主任刘大的配偶）任股东" in leads[0].explanation
