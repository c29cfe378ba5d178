"""Alembic environment for the review database (SQLite and PostgreSQL). Run through `sanzi db upgrade`."""

from alembic import context

from sanzi_audit.store import metadata

config = context.config


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        from sanzi_audit.store import create_engine_for

        connectable = create_engine_for(config.get_main_option("sqlalchemy.url"))
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True,
                      render_as_batch=connection.dialect.name == "sqlite")  # SQLite cannot ALTER most things
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
