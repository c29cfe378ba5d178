"""Schema migrations of the review database (Alembic, scripts in sql/migrations)."""

from __future__ import annotations

from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory


class SchemaError(RuntimeError):
    """The database's schema is not the one this version of sanzi-audit needs."""


def alembic_config(url: str | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("sanzi_audit.sql_migrations")))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head() -> str:
    found = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if found is None:
        raise RuntimeError("no migration head in sql/migrations")
    return found


def current(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def ensure_schema(engine: sa.Engine, url_for_message: str) -> None:
    """Initialise an empty database; refuse one whose schema is behind (or unknown) with the fix to run."""
    rev = current(engine)
    want = head()
    if rev == want:
        return
    tables = set(sa.inspect(engine).get_table_names())
    if rev is None and not tables:
        upgrade(engine)
        return
    found = f"版本 {rev}" if rev else "无版本记录（不是由 sanzi-audit 迁移创建）"
    raise SchemaError(f"审查库结构{found}，当前程序需要版本 {want}。请先备份，再运行: "
                      f"sanzi db upgrade --db {url_for_message}")
