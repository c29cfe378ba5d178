"""The private-API hooks of sanzi_audit.compat still exist in the installed libraries: an upgrade that moves one
fails here, by name, instead of quietly costing speed, memory or a run's last log lines."""

import inspect
from importlib.metadata import version

from sanzi_audit import compat


def test_the_checked_versions_are_the_installed_ones():
    # pyproject pins these: a bump is deliberate, and then every hook below is looked at again
    assert {p: version(p) for p in compat.CHECKED_ON} == compat.CHECKED_ON


def test_gx_batch_hashing_can_still_be_switched_off():
    from great_expectations.execution_engine import pandas_execution_engine

    assert isinstance(pandas_execution_engine.HASH_THRESHOLD, int | float)
    assert compat.gx_skip_batch_hashing() and pandas_execution_engine.HASH_THRESHOLD == 0


def test_gx_validated_batches_can_still_be_forgotten(monkeypatch):
    from sanzi_audit.quality import Validator
    from sanzi_audit.testing import frame

    held = []
    monkeypatch.setattr(compat, "gx_forget_batches", held.append)  # validate once without forgetting
    import datetime as dt

    from sanzi_audit import quality

    day = dt.date(2024, 12, 31)
    v = Validator(quality.parameters("330599", [], dt.date(2024, 1, 1), day, day))
    v.validate("bank", frame("bank", [dict(txn_id="B1", village_code="330599101200", account_no="1",
                                           txn_date="2024-01-02", amount_in=5.0, balance=5.0)]))
    monkeypatch.undo()
    manager = v.source.get_execution_engine().batch_manager
    assert held and len(manager.batch_data_cache) >= 1  # GX kept the batch
    assert compat.gx_forget_batches(v.source) and len(manager.batch_data_cache) == 0


def test_prefect_internals_the_province_flow_uses_are_there():
    from prefect.logging.handlers import APILogWorker
    from prefect.server.api.server import SubprocessASGIServer

    assert {"start", "stop"} <= set(dir(SubprocessASGIServer)) and "api_url" in dir(SubprocessASGIServer)
    params = inspect.signature(APILogWorker.drain_all).parameters
    assert {"timeout", "at_exit"} <= set(params)
