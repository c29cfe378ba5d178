"""The synthetic county must be realistic enough that precision and recall mean something."""

import pandas as pd

from sanzi_audit.identifiers import is_valid_ric, is_valid_uscc
from sanzi_audit.synth import SynthOptions, generate

from .conftest import SMALL


def test_deterministic_for_a_seed(small_result, config):
    again = generate(SMALL, config)
    for name, df in small_result.tables.items():
        assert df.astype("str").equals(again.tables[name].astype("str")), name
    assert small_result.truth.equals(again.truth)


def test_one_seed_one_county_however_often_it_is_generated(config):
    """Generation keeps no state between calls: a name buffer keyed on ``id(rng)`` once handed a later call
    (whose new generator got a recycled id) the previous call's leftover names."""
    tiny = SynthOptions(villages=2, seed=11, vouchers_per_village=50)
    first = generate(tiny, config)
    for _ in range(4):
        again = generate(tiny, config)
        for name, df in first.tables.items():
            assert df.astype("str").equals(again.tables[name].astype("str")), name


def test_vouchers_balance_and_ids_are_valid(small_result):
    led = small_result.tables["ledger"]
    sums = led.groupby(["village_code", "voucher_no"])[["debit", "credit"]].sum()
    assert ((sums["debit"] - sums["credit"]).abs() < 0.005).all()
    assert led["entry_id"].is_unique
    res = small_result.tables["residents"]
    assert res["person_id"].is_unique and res["person_id"].map(is_valid_ric).all()
    assert res["village_code"].str.fullmatch(r"\d{12}").all()
    companies = small_result.tables["contracts"]["vendor_id"].dropna()
    companies = companies[companies.str.startswith("91")]
    assert len(companies) and companies.map(is_valid_uscc).all()


def test_truth_points_at_real_records_and_covers_every_pattern(small_result):
    ids = {t: set(df[c].astype("str")) for t, df, c in [
        ("ledger", small_result.tables["ledger"], "entry_id"), ("contracts", small_result.tables["contracts"], "contract_no"),
        ("claims", small_result.tables["claims"], "claim_id")]}
    for r in small_result.truth.itertuples():
        assert r.record_id in ids[r.source_table], r
    big = generate(SynthOptions(villages=20, seed=1, vouchers_per_village=200))
    assert set(big.truth["fraud_type"]) >= {"split_contract", "duplicate_payment", "shared_account", "related_party",
                                           "claim_deceased", "claim_nonresident", "claim_inflated_area"}


def test_honest_lookalikes_exist_and_names_repeat(small_result):
    res = small_result.tables["residents"]
    dup_names = res.groupby("name")["person_id"].nunique()
    assert (dup_names > 1).any()  # different people named alike, as in any county
    assert len(small_result.lookalikes) > 0
    assert pd.Series(["split_lookalike"]).isin(small_result.lookalikes["kind"]).any()
