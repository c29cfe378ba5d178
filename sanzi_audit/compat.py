"""Every place we reach past a library's public API, in one module, each with the version it was checked on.

tests/test_compat.py checks each of them against the installed libraries, so an upgrade that moves one fails the
suite by name instead of silently costing speed or memory (or, for the log drain, the last lines of a run). At run
time a missing hook is logged and skipped: a night is not failed for an optimisation.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

CHECKED_ON = {"great_expectations": "1.24.1", "prefect": "3.8.8"}


def gx_skip_batch_hashing() -> bool:
    """GX fingerprints every in-memory batch below ``HASH_THRESHOLD`` bytes (hash_pandas_object of the whole frame:
    2.5 s for a million ledger lines) only to write it into the result's batch markers. Our rows carry their own
    fingerprints (pipeline.fingerprints), so the batch one is switched off. A module global of GX's pandas engine."""
    from great_expectations.execution_engine import pandas_execution_engine

    if not hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        log.warning("great_expectations %s has no pandas_execution_engine.HASH_THRESHOLD: batches are hashed again "
                    "(checked on %s)", _version("great_expectations"), CHECKED_ON["great_expectations"])
        return False
    pandas_execution_engine.HASH_THRESHOLD = 0
    return True


def gx_forget_batches(data_source: Any) -> bool:
    """GX's execution engine keeps every batch it validated (the whole typed table) until the context is replaced;
    a second night in one process, or a province worker's next county, carried the last one's 1.6 GB. The batch
    manager's caches are internal to GX."""
    manager = getattr(data_source.get_execution_engine(), "batch_manager", None)
    if manager is None or not hasattr(manager, "reset_batch_cache") or not hasattr(manager, "batch_data_cache"):
        log.warning("great_expectations %s: the execution engine's batch cache moved; validated tables stay in "
                    "memory until the next run (checked on %s)", _version("great_expectations"),
                    CHECKED_ON["great_expectations"])
        return False
    manager.reset_batch_cache()
    manager.batch_data_cache.clear()
    return True


def prefect_subprocess_server():
    """Prefect's own temporary-server class (prefect.server.api.server.SubprocessASGIServer, not exported): the
    province flow starts one for the flow and every Dask worker when no server is configured."""
    from prefect.server.api.server import SubprocessASGIServer

    return SubprocessASGIServer()


def prefect_drain_logs(timeout: float = 10) -> None:
    """Send the run's last log lines to the server before it stops (prefect.logging.handlers.APILogWorker, internal:
    APILogHandler.flush is an instance method, and calling it on the class raised a TypeError after every
    province run without a server)."""
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=timeout, at_exit=False)


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
