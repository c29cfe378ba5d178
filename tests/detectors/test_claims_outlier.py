import numpy as np

from sanzi_audit.detectors.claims_outlier import ClaimsOutlier

from .helpers import V, data


def test_the_model_flags_the_claim_out_of_line_and_names_why():
    rng = np.random.default_rng(0)
    claims, residents = [], []
    for i in range(400):
        pid = f"P{i:04d}"
        area = float(rng.uniform(3, 8))
        residents.append(dict(person_id=pid, name=f"人{i}", village_code=V, status="在册", contracted_area=area))
        claims.append(dict(claim_id=f"C{i}", village_code=V, program="耕地地力保护补贴", period="2024",
                           claimant_name=f"人{i}", claimant_id=pid, bank_account=f"62{i:08d}",
                           amount=round(area * float(rng.uniform(115, 125)), 2), quantity=area, pay_date="2024-04-01"))
    claims[7].update(quantity=30.0, amount=30.0 * 120)  # claims five times the roster's area
    det = ClaimsOutlier(ClaimsOutlier.Params(contamination=0.005))
    leads = det.detect(data(claims=claims, residents=residents))
    assert leads and leads[0].evidence == [("claims", "C7")]
    assert "area_excess" in leads[0].details["drivers"] and "申报面积超出名册承包面积" in leads[0].explanation
    assert "模型" in leads[0].title and "疑点" in leads[0].title


def test_too_few_claims_and_the_model_stays_quiet():
    claims = [dict(claim_id=f"C{i}", village_code=V, program="耕地地力保护补贴", period="2024", claimant_name="某",
                   claimant_id=f"P{i}", bank_account=None, amount=100.0, quantity=1.0, pay_date="2024-04-01")
              for i in range(50)]
    assert ClaimsOutlier().detect(data(claims=claims)) == []
