"""低价出租 (lease rents against township comparables) and 干部及亲属补贴异常 (officials' claims against the village)."""

import pytest

from sanzi_audit.detectors.claims_area import ClaimsArea
from sanzi_audit.detectors.lease_rents import LeaseRents
from sanzi_audit.detectors.official_claims import OfficialClaims

from .helpers import V2, V, data

T2 = "330599102200"  # another township


def lease(no, rent_per_mu, qty=20.0, years=3, village=V, title="东岸鱼塘承包", vendor_id="330599198001010011", **kw):
    return dict(contract_no=no, village_code=village, title=title, category=kw.pop("category", "资源发包"),
                vendor=kw.pop("vendor", "王五"), vendor_id=vendor_id, amount=rent_per_mu * qty * years,
                sign_date="2024-03-01", method="公开竞价", quantity=qty, unit="亩", term_years=years, **kw)


MARKET = [lease(f"M{i}", r, village=V if i % 2 else V2) for i, r in enumerate([850, 900, 950, 1000, 1100])]

LEASES = [
    ("a pond at a quarter of the township's going rent", MARKET + [lease("X", 240)], {"X"}),
    ("a pond at the low end of the market (honest)", MARKET + [lease("X", 700)], set()),
    ("hill forest is compared with hill forest, not ponds", MARKET + [
        lease(f"S{i}", r, title="后山山林承包") for i, r in enumerate([55, 60, 65])] + [lease("X", 60, title="北坡山林承包")],
     set()),
    ("too few comparables anywhere: no judgement", [lease("A", 900), lease("X", 200)], set()),
    ("works contracts are not leases", MARKET + [lease("X", 100, category="工程")], set()),
]


@pytest.mark.parametrize("desc,contracts,expected", LEASES, ids=[c[0] for c in LEASES])
def test_lease_cases(desc, contracts, expected):
    leads = LeaseRents().detect(data(contracts=contracts))
    assert {ld.key[1] for ld in leads} == expected


def test_the_lease_lead_compares_with_numbers_and_names_an_insider():
    officials = [dict(person_id="330599198001010011", name="王五", village_code=V, related_to="330599197001010022",
                      relation="兄弟姐妹")]
    (ld,) = LeaseRents().detect(data(contracts=MARKET + [lease("X", 240)], officials=officials))
    assert ld.details["median"] == 950.0 and ld.details["rent"] == 240.0 and ld.details["where"] == "本乡镇"
    assert "村干部的兄弟姐妹" in ld.explanation and "25%" in ld.title and "疑点" in ld.title
    assert ld.amount_at_risk == (950 - 240) * 20 * 3 and ld.evidence[0] == ("contracts", "X")


def test_a_township_without_comparables_falls_back_to_the_county():
    (ld,) = LeaseRents().detect(data(contracts=MARKET + [lease("X", 240, village=T2)]))
    assert ld.details["where"] == "全县" and "全县" in ld.explanation


# ---- officials' claims --------------------------------------------------------------------------------------
CADRE, WIFE = "330599197001010022", "330599197201010033"
OFFICIALS = [dict(person_id=CADRE, name="李书记", village_code=V, role="党支部书记", related_to=None, relation="本人"),
             dict(person_id=WIFE, name="赵某", village_code=V, role=None, related_to=CADRE, relation="配偶")]


def gd(cid, pid, area, village=V, period="2024"):
    return dict(claim_id=cid, village_code=village, program="耕地地力保护补贴", period=period, claimant_name=cid,
                claimant_id=pid, bank_account="62", amount=round(area * 110, 2), quantity=area,
                pay_date=f"{period}-05-20")


PEERS = [gd(f"p{i}", f"3305991960010100{i:02d}", 2.0 + 0.25 * (i % 12)) for i in range(30)]  # 2–4.75亩


@pytest.mark.parametrize("desc,claims,expected", [
    ("the secretary claims 12亩 where villagers hold 2–5", PEERS + [gd("c", CADRE, 12.0)], {"c"}),
    ("his wife too", PEERS + [gd("w", WIFE, 11.0)], {"w"}),
    ("a cadre with an ordinary holding (honest)", PEERS + [gd("c", CADRE, 4.0)], set()),
    ("a big non-official farmer is not this detector's business", PEERS + [gd("f", "330599196001019999", 14.0)], set()),
    ("too few peers to compare", PEERS[:5] + [gd("c", CADRE, 12.0)], set()),
], ids=lambda x: x if isinstance(x, str) else "")
def test_official_claim_cases(desc, claims, expected):
    leads = OfficialClaims().detect(data(claims=claims, officials=OFFICIALS))
    assert {e for ld in leads for t, e in ld.evidence if t == "claims"} == expected


def test_the_official_claim_lead_names_the_relation_and_the_village_norm():
    (ld,) = OfficialClaims().detect(data(claims=PEERS + [gd("w", WIFE, 11.0)], officials=OFFICIALS))
    assert "党支部书记李书记的配偶" in ld.title
    assert "中位数" in ld.explanation and "30 名" in ld.explanation and ld.details["peers"] == 30
    assert ("officials", WIFE) in ld.evidence and ("claims", "w") in ld.evidence


# ---- area growth year on year (claims_area) ---------------------------------------------------------------
RES = [dict(person_id=CADRE, name="甲", village_code=V, household_id="H", status="在册", contracted_area=9.0)]


@pytest.mark.parametrize("desc,claims,n", [
    ("4.5亩 last year, 9亩 this year, roster raised to 9", [gd("a", CADRE, 4.5, period="2023"),
                                                           gd("b", CADRE, 9.0)], 1),
    ("12% more land this year (honest, within 20%)", [gd("a", CADRE, 8.0, period="2023"), gd("b", CADRE, 8.96)], 0),
    ("40% on a tiny plot: under the 0.5亩 floor", [gd("a", CADRE, 1.0, period="2023"), gd("b", CADRE, 1.4)], 0),
    ("no previous year: nothing to compare", [gd("b", CADRE, 9.0)], 0),
], ids=lambda x: x if isinstance(x, str) else "")
def test_area_growth(desc, claims, n):
    leads = ClaimsArea().detect(data(claims=claims, residents=RES))
    assert len(leads) == n
    if n:
        (ld,) = leads
        assert "上期（2023）申报 4.5 亩，本期 9 亩，增长 100%" in ld.explanation
        assert ("claims", "a") in ld.evidence and ("claims", "b") in ld.evidence
        assert ld.details["previous_quantity"] == 4.5
