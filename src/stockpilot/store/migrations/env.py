"""Alembic environment: runs on the connection stockpilot hands over (or a URL)."""

from alembic import context
from sqlalchemy import Connection, create_engine


import stockpilot.store.all_tables  # noqa: F401  (registers every area's tables)
from stockpilot.store.schema import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        url = config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("alembic: no connection handed over and no sqlalchemy.url set")
        engine = create_engine(url)
        with engine.begin() as conn:
            _migrate(conn)
    else:
        _migrate(connection)


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
