"""Shared fixtures: a small synthetic county, review databases on SQLite and PostgreSQL, one Prefect harness."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from sanzi_audit.config import load_config
from sanzi_audit.synth import SynthOptions, generate, write

SMALL = SynthOptions(villages=6, seed=3, vouchers_per_village=400)


@pytest.fixture(scope="session")
def config():
    return load_config()


@pytest.fixture(scope="session")
def small_result(config):
    return generate(SMALL, config)


@pytest.fixture(scope="session")
def small_county(tmp_path_factory, small_result):
    return write(small_result, tmp_path_factory.mktemp("county") / "source")


@pytest.fixture(scope="session")
def small_tables(small_county, config):
    """The small county's validated tables in the contract's columns, as detection gets them."""
    from sanzi_audit import pipeline
    from sanzi_audit.contract import TABLES
    from sanzi_audit.sources import extract

    validated = pipeline.validate_all(extract(small_county), config)
    return {n: v.clean[TABLES[n].column_names].reset_index(drop=True) for n, v in validated.items()}


@pytest.fixture(scope="session")
def small_county_messy(tmp_path_factory, small_result):
    return write(small_result, tmp_path_factory.mktemp("county_messy") / "source", messy=True, seed=5)


def _pg_admin_url() -> str | None:
    url = os.environ.get("SANZI_TEST_PG_URL")
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail("CI must test PostgreSQL: SANZI_TEST_PG_URL is not set (scripts/postgres.sh failed?)")
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty review database on each backend."""
    if request.param == "sqlite":
        from sanzi_audit import store

        url = f"sqlite:///{tmp_path / 'review.db'}"
        yield url
        store.dispose(url)
        return
    admin = _pg_admin_url()
    if admin is None:
        pytest.skip("PostgreSQL 测试已跳过: 未设置 SANZI_TEST_PG_URL（运行 scripts/test.sh 会自动启动一个）")
    name = f"t_{uuid.uuid4().hex[:12]}"
    eng = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.rsplit("/", 1)[0] + "/" + name
    yield url
    from sanzi_audit import store

    store.dispose(url)
    with eng.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server for the whole session (each start costs 10-19 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
