"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets in ``../shared/data`` (or ``$STOCKPILOT_SHARED_DATA``)."""
    path = Path(os.environ.get("STOCKPILOT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared data not found at {path}")
        pytest.skip(f"shared data not found at {path} (set STOCKPILOT_SHARED_DATA)")
    return path


# --- real services: PostgreSQL, NATS, Redis -------------------------------------------------
# Under CI=true an unreachable service fails the test; elsewhere it skips with the reason.

PG_URL = os.environ.get("STOCKPILOT_TEST_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NATS_URL = os.environ.get("STOCKPILOT_TEST_NATS_URL", "nats://127.0.0.1:4222")
REDIS_URL = os.environ.get("STOCKPILOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _unavailable(what: str, why: object) -> None:
    msg = f"{what} is not reachable ({why})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{msg}; under CI it must run")
    pytest.skip(msg)


def _tcp_ok(url: str, default_port: int) -> str | None:
    import socket
    from urllib.parse import urlparse

    u = urlparse(url)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or default_port), 2):
            return None
    except OSError as exc:
        return str(exc)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the test PostgreSQL database (skips, or fails under CI, when unreachable)."""
    from sqlalchemy import create_engine, text

    try:
        eng = create_engine(PG_URL)
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
    except Exception as exc:
        _unavailable(f"PostgreSQL at {PG_URL}", exc)
    return PG_URL


@pytest.fixture(scope="session")
def nats_url() -> str:
    """URL of the NATS JetStream server (skips, or fails under CI, when unreachable)."""
    why = _tcp_ok(NATS_URL, 4222)
    if why:
        _unavailable(f"NATS at {NATS_URL}", why)
    return NATS_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the Redis server (skips, or fails under CI, when unreachable)."""
    why = _tcp_ok(REDIS_URL, 6379)
    if why:
        _unavailable(f"Redis at {REDIS_URL}", why)
    return REDIS_URL


def make_pg_engine(pg_url: str, schema: str):
    """An engine whose connections use their own PostgreSQL schema (test isolation)."""
    from stockpilot.store.db import make_engine

    return make_engine(pg_url, connect_args={"options": f"-csearch_path={schema}"})


@pytest.fixture
def sqlite_engine(tmp_path: Path):
    """A migrated SQLite database in a temporary folder."""
    from stockpilot.store.db import make_engine
    from stockpilot.store.migrate import upgrade

    eng = make_engine(f"sqlite:///{tmp_path / 'stockpilot.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def pg_engine(pg_url: str):
    """A migrated PostgreSQL database in a fresh schema, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text

    from stockpilot.store.migrate import upgrade

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    eng = make_pg_engine(pg_url, schema)
    upgrade(eng)
    yield eng
    eng.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest):
    """The same test on SQLite and on PostgreSQL (CONVENTIONS §13)."""
    name = {"sqlite": "sqlite_engine", "postgres": "pg_engine"}[request.param]
    return request.getfixturevalue(name)


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on 127.0.0.1: ``(port, messages received)``."""
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    box: list = []

    class Keep(Message):
        def handle_message(self, message):
            box.append(message)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(Keep(), hostname="127.0.0.1", port=port)
    ctl.start()
    yield port, box
    ctl.stop()
