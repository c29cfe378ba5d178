"""The plugin API is one module with a fixed list of names: a third-party detector imports only from it."""

import sanzi_audit.plugin as api

PUBLISHED = {"Detector", "DetectorInput", "Lead", "Params", "EVIDENCE_TABLES", "wan", "ymd", "mentions", "Example", "V",
             "V2", "pay", "receipt", "contract", "claim", "resident", "official_row", "check_detector", "sample_input",
             "example_input", "run_example", "frame"}


def test_the_plugin_module_exports_exactly_the_published_names():
    # removing or renaming one breaks every plugin: change PUBLISHED (and the docs) on purpose, never by accident
    assert set(api.__all__) == PUBLISHED
    for name in PUBLISHED:
        assert getattr(api, name) is not None, name


def test_a_detector_written_against_the_plugin_api_alone_conforms():
    class LateNight(api.Detector):
        name = "weekend_receipts"
        title = "周末收款"
        description = ("Flags cash receipts booked on a Saturday or Sunday (an example plugin for the API test: "
                       "what it flags, why it would matter, and the basis of its rule).")
        requires = ("ledger",)
        examples = (
            api.Example("周六收到现金", {"ledger": [api.receipt("r1", "2024-03-02", 500, "某人", "101")]}, leads=1),
            api.Example("周一收到现金", {"ledger": [api.receipt("r1", "2024-03-04", 500, "某人", "101")]}, leads=0),
        )

        def detect(self, data):
            led = data["ledger"]
            hit = led[(led["credit"] > 0) & (led["entry_date"].dt.day_of_week >= 5)]
            return [self.lead(village_code=r.village_code, score=0.5, amount_at_risk=r.credit,
                              title=f"周末收款疑点：{api.ymd(r.entry_date)} {api.wan(r.credit)}",
                              explanation="周末入账的现金收款；若为村集体活动当天收款，可据记录排除。",
                              evidence=[("ledger", r.entry_id)], key=(r.entry_id,)) for r in hit.itertuples()]

    api.check_detector(LateNight)
