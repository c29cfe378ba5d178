"""The shared entity index: resolution rules, and the positional view of payments the detectors rely on."""

import pandas as pd
import pytest

from .helpers import V2, V, contract, data, pay

PID = "330599198001011234"
USCC = "91330599AAAAAAAAA1"


def _ledger():
    return [
        pay("p1", "2024-03-01", 1500, "王伟", "213001", counterparty_id=PID),
        pay("p2", "2024-03-02", 800, "王伟", "213001"),  # no ID: the one 王伟 with an ID in the village
        pay("p3", "2024-03-03", 700, "王伟", "213001", village_code=V2),  # another village: never merged by name
        pay("p4", "2024-03-04", 4800, "演示县兴湾建材有限责任公司", "121001"),  # the org name joins its one ID
        pay("x1", "2024-03-05", 0.0, "李四", "213001"),  # no debit: not a payment
        pay("p5", "2024-03-06", 300, "张三", "213001"),
    ]


def test_entities_follow_the_resolution_rules():
    d = data(ledger=_ledger(), contracts=[contract("HT1", "2024-02-01", 90_000, "兴湾建材有限公司", vendor_id=USCC)])
    ent = d.entities.for_source("ledger")["entity"]
    assert ent["p1"] == ent["p2"] == f"id:{PID}"
    assert ent["p3"] == f"name:{V2}:王伟"
    assert ent["p4"] == f"id:{USCC}" == d.entities.for_source("contracts")["entity"]["HT1"]
    assert ent["p5"] == f"name:{V}:张三"
    assert "x1" not in ent.index
    # Arrow-backed strings, not Python objects: a county has millions of these rows
    assert all(isinstance(d.entities.keys[c].dtype, pd.StringDtype) for c in ("record_id", "entity", "name_norm"))
    # payments first, in the canonical order detection sees (village, date, id): V's four, then V2's
    assert d.entities.keys["amount"].tolist()[:5] == [1500, 800, 4800, 300, 700]


def test_payment_rows_by_position_match_the_lookup_by_entry_id():
    d = data(ledger=_ledger(), contracts=[contract("HT1", "2024-02-01", 90_000, "兴湾建材有限公司", vendor_id=USCC)])
    pay_ = d.payments
    some = pay_[pay_["debit"] < 1000]  # a filtered payments frame keeps its labels
    by_pos = d.entities.of_payments(some.index)
    by_id = some["entry_id"].map(d.entities.for_source("ledger")["entity"])
    assert by_pos.index.equals(some.index)
    assert by_pos["entity"].tolist() == by_id.tolist()
    assert by_pos["record_id"].tolist() == some["entry_id"].tolist()
    with pytest.raises(IndexError):
        d.entities.of_payments(pd.Index([len(pay_)]))  # not a payments label


def test_an_empty_ledger_gives_an_empty_index():
    d = data(ledger=[pay("x1", "2024-03-05", 0.0, "李四", "213001")])
    assert d.entities.keys.empty and d.entities.of_payments(d.payments.index).empty
