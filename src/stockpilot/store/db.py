"""Engines for SQLite (embedded default) and PostgreSQL, with the ledger's transaction rules.

SQLite runs in WAL mode with foreign keys on, and every write transaction opens with
``BEGIN IMMEDIATE`` so two writers never both read-then-write the same rows (the second waits
for the lock instead of failing at commit). Read-only work can ask for a deferred ``BEGIN``
with ``conn.execution_options(readonly=True)``. ``synchronous=FULL`` makes each commit durable
(fsync of the WAL); ``NORMAL`` trades the last commits on power loss for speed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

#: ``Engine`` is re-exported: the edges name the handle they pass on without importing SQLAlchemy
__all__ = ["Engine", "dialect_insert", "is_sqlite", "make_engine", "normalise_url"]


def is_sqlite(engine_or_url: Engine | str) -> bool:
    """True when the engine (or URL) is SQLite."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def dialect_insert(conn: Any, table: Any) -> Any:
    """An INSERT with ``on_conflict_do_nothing``/``_update`` for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, *, synchronous: str = "FULL", pool_size: int = 5, **kw: Any) -> Engine:
    """Create an engine for ``url`` with the ledger's pragmas (SQLite) or pool (PostgreSQL)."""
    url = normalise_url(url)
    if is_sqlite(url):
        return _sqlite_engine(url, synchronous, **kw)
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         **kw)


def _sqlite_engine(url: str, synchronous: str, **kw: Any) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False}, **kw)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE is ours to emit
        # (SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL").
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get("readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine
