"""Schema changes go through Alembic: the models match the migrations, and an old database is refused, then fixed."""

import subprocess
import sys

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from sanzi_audit import migrate, store


def test_migrations_produce_exactly_the_models(db_url):
    engine = store.connect(db_url)
    assert migrate.current(engine) == migrate.head()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), store.metadata)
    assert diff == [], f"models and migrations differ: write a migration (sanzi_audit/migrate.py): {diff}"


def test_an_old_database_is_refused_until_upgraded(db_url):
    engine = store.create_engine_for(db_url)
    migrate.upgrade(engine, "0001")
    engine.dispose()
    with pytest.raises(migrate.SchemaError, match="sanzi db upgrade"):
        store.connect(db_url)
    r = subprocess.run([sys.executable, "-m", "sanzi_audit.cli", "db", "upgrade", "--db", db_url],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "0001 → " + migrate.head() in r.stdout, r.stderr
    engine = store.connect(db_url)
    assert "leads_reopened" in {c["name"] for c in sa.inspect(engine).get_columns("runs")}


def test_a_database_not_made_by_migrations_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'foreign.db'}"
    raw = sa.create_engine(url)
    with raw.begin() as c:
        c.execute(sa.text("CREATE TABLE leads (x INTEGER)"))
    raw.dispose()
    with pytest.raises(migrate.SchemaError, match="无版本记录"):
        store.connect(url)
