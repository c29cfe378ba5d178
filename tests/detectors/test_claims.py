"""The fake-claim (虚报冒领) detectors on hand-made rolls, honest look-alikes included."""

import pytest

from sanzi_audit.detectors.claims_after_exit import ClaimsAfterExit
from sanzi_audit.detectors.claims_area import ClaimsArea
from sanzi_audit.detectors.claims_duplicate import ClaimsDuplicate
from sanzi_audit.detectors.claims_nonresident import ClaimsNonresident

from .helpers import V2, V, data

OLD = "11010519491231002X"  # valid check digit
OTHER = "110105194912310038"  # valid, but on no roster


def claim(cid, pid, pay_date, amount=240.0, village=V, program="城乡居民基础养老金", period=None, **kw):
    return dict(claim_id=cid, village_code=village, program=program, period=period or pay_date[:7], claimant_name="张三",
                claimant_id=pid, bank_account=kw.pop("bank_account", "6228480000000000001"), amount=amount,
                pay_date=pay_date, **kw)


def resident(pid=OLD, village=V, status="在册", status_date=None, area=None):
    return dict(person_id=pid, name="张三", village_code=village, household_id="H1", status=status,
                status_date=status_date, contracted_area=area)


AFTER_EXIT = [
    ("paid two months after death", [resident(status="死亡", status_date="2024-03-01")],
     [claim("a", OLD, "2024-02-15"), claim("b", OLD, "2024-03-15"), claim("c", OLD, "2024-04-15")], {"b", "c"}),
    ("died after the last payment (honest)", [resident(status="死亡", status_date="2024-12-20")],
     [claim("a", OLD, "2024-12-15")], set()),
    ("moved out, still paid", [resident(status="迁出", status_date="2024-05-01")],
     [claim("a", OLD, "2024-06-15")], {"a"}),
    ("alive", [resident()], [claim("a", OLD, "2024-06-15")], set()),
]


@pytest.mark.parametrize("desc,res,claims,expected", AFTER_EXIT, ids=[c[0] for c in AFTER_EXIT])
def test_after_exit(desc, res, claims, expected):
    leads = ClaimsAfterExit().detect(data(residents=res, claims=claims))
    assert {r for ld in leads for t, r in ld.evidence if t == "claims"} == expected


NONRESIDENT = [
    ("on the roster of this village (honest)", [resident()], [claim("a", OLD, "2024-06-15")], set()),
    ("not on any roster", [resident()], [claim("a", OTHER, "2024-06-15")], {"missing"}),
    ("registered in another village", [resident(village=V2)], [claim("a", OLD, "2024-06-15")], {"elsewhere"}),
    ("check digit fails", [resident(pid="110105194912310021")], [claim("a", "110105194912310021", "2024-06-15")],
     {"invalid_id"}),
]


@pytest.mark.parametrize("desc,res,claims,expected", NONRESIDENT, ids=[c[0] for c in NONRESIDENT])
def test_nonresident(desc, res, claims, expected):
    leads = ClaimsNonresident().detect(data(residents=res, claims=claims))
    assert {ld.details["reason"] for ld in leads} == expected


def test_duplicate_same_period_across_villages_but_not_next_month():
    rows = [claim("a", OLD, "2024-03-15"), claim("b", OLD, "2024-03-18", village=V2, bank_account="X"),
            claim("c", OLD, "2024-04-15")]
    (ld,) = ClaimsDuplicate().detect(data(claims=rows))
    assert {r for _, r in ld.evidence} == {"a", "b"} and ld.details["villages"] == 2 and ld.amount_at_risk == 240


AREA = [
    ("area as on the roster (honest)", 3.0, 3.0, 3.0 * 118, False),
    ("half a mu of rounding (honest)", 3.4, 3.0, 3.4 * 118, False),
    ("eight mu more than contracted", 11.0, 3.0, 11.0 * 118, True),
    ("rate far above the band", 3.0, 3.0, 3.0 * 300, True),
]


@pytest.mark.parametrize("desc,qty,area,amount,flagged", AREA, ids=[c[0] for c in AREA])
def test_area(desc, qty, area, amount, flagged):
    rows = [claim("a", OLD, "2024-05-20", amount=amount, program="耕地地力保护补贴", period="2024", quantity=qty)]
    leads = ClaimsArea().detect(data(residents=[resident(area=area)], claims=rows))
    assert bool(leads) == flagged


def _flagged(det, res, claims):
    return {r for ld in det.detect(data(residents=res, claims=claims)) for t, r in ld.evidence if t == "claims"}


def test_a_pensioner_who_moved_in_is_resident_from_the_move():
    res = [resident(status="迁入", status_date="2024-06-01")]
    claims = [claim("before", OLD, "2024-05-15"), claim("after", OLD, "2024-07-15")]
    assert _flagged(ClaimsNonresident(), res, claims) == {"before"}  # paid here before moving in
    assert _flagged(ClaimsAfterExit(), res, claims) == set()


def test_a_person_on_two_rosters_is_one_person_with_a_history():
    """Moved from V2 to V on 2024-06-01: V2 paid until then, V from then; nobody is a non-resident or paid after
    leaving, and the land subsidy stays with the land in V2."""
    res = [resident(village=V2, status="迁出", status_date="2024-06-01"),
           resident(village=V, status="迁入", status_date="2024-06-01")]
    claims = [claim("old1", OLD, "2024-05-15", village=V2), claim("new1", OLD, "2024-06-15", village=V),
              claim("land", OLD, "2024-06-20", village=V2, program="耕地地力保护补贴", period="2024")]
    assert _flagged(ClaimsNonresident(), res, claims) == set()
    assert _flagged(ClaimsAfterExit(), res, claims) == set()
    # the old village paying the pension after the move is still flagged
    late = claims + [claim("old2", OLD, "2024-07-15", village=V2)]
    assert _flagged(ClaimsAfterExit(), res, late) == {"old2"}


def test_two_rosters_load_as_two_rows_not_a_duplicate(tmp_path):
    import pandas as pd

    from sanzi_audit.config import load_config
    from sanzi_audit.pipeline import validate_all
    from sanzi_audit.sources import Extract, RawTable

    frame = pd.DataFrame({"person_id": [OLD, OLD], "name": ["张三", "张三"], "village_code": [V2, V],
                          "status": ["迁出", "迁入"], "status_date": ["2024-06-01", "2024-06-01"]}, dtype=object)
    frame["_row"] = pd.array([2, 3], dtype="int64")
    frame["_file"] = "residents.csv"
    frame["_seq"] = pd.array([0, 1], dtype="int64")
    v = validate_all(Extract(tables={"residents": RawTable("residents", "residents.csv", frame)}), load_config())
    assert v["residents"].rows_loaded == 2 and v["residents"].rows_quarantined == 0
