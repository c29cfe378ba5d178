from sanzi_audit.config import load_config
from sanzi_audit.detectors.base import DetectorInput
from sanzi_audit.testing import frame

V = "330599101200"
V2 = "330599101201"


def data(**tables) -> DetectorInput:
    return DetectorInput({k: frame(k, rows) for k, rows in tables.items()}, load_config())


def pay(eid, date, amount, payee, account="153001", voucher=None, **kw):
    """A debit payment line (the credit side is irrelevant to the detectors)."""
    village = kw.pop("village_code", V)
    return dict(entry_id=eid, village_code=village, voucher_no=voucher or eid, line_no="1", entry_date=date,
                account_code=account, debit=amount, credit=0.0, counterparty=payee, summary=kw.pop("summary", "付款"),
                **kw)


def contract(no, date, amount, vendor, title="3组道路硬化工程", **kw):
    return dict(contract_no=no, village_code=kw.pop("village_code", V), sign_date=date, amount=amount, vendor=vendor,
                title=title, category=kw.pop("category", "工程"), **kw)
