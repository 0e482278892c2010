"""The one retry policy: transient failures are retried (to the limit), permanent ones are not.

Real failures only: a real SQLite write lock held by another connection, real PostgreSQL
errors raised inside the ledger's own transaction by a trigger (SQLSTATE 40001 serialization
failure, 22003 numeric out of range), real HTTP statuses for the notifiers (tests/alerts).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from stockpilot import retry
from stockpilot.domain import commands as c
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store.uow import transact


def test_a_held_sqlite_lock_is_retried_until_released(tmp_path: Path) -> None:
    path = tmp_path / "lock.db"
    eng = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
    tries: list[int] = []

    def write() -> None:
        tries.append(1)
        with eng.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))

    def wait(_s: float) -> None:
        holder.execute("ROLLBACK")  # the other writer finishes while we back off

    retry.call(write, sleep=wait)
    assert len(tries) == 2
    with eng.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1


def test_a_lock_never_released_gives_up_at_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "lock.db"
    eng = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    tries: list[int] = []
    waits: list[float] = []

    def write() -> None:
        tries.append(1)
        with eng.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))

    with pytest.raises(OperationalError, match="locked"):
        retry.call(write, sleep=waits.append)
    assert len(tries) == retry.ATTEMPTS and len(waits) == retry.ATTEMPTS - 1
    assert all(0 <= w <= retry.MAX_WAIT_S for w in waits)
    holder.execute("ROLLBACK")


def test_a_check_violation_is_permanent(tmp_path: Path) -> None:
    eng = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER CHECK (x >= 0))"))
    tries: list[int] = []

    def write() -> None:
        tries.append(1)
        with eng.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (-1)"))

    with pytest.raises(IntegrityError):
        retry.call(write, sleep=lambda _s: None)
    assert tries == [1]


def _flaky_trigger(engine, errcode: str, failures: int) -> None:  # type: ignore[no-untyped-def]
    """A trigger on ledger_events raising ``errcode`` for the first ``failures`` inserts.

    The count lives in a sequence, which a rolled-back transaction does not undo.
    """
    with engine.begin() as conn:
        conn.execute(text("CREATE SEQUENCE flaky_seq"))
        conn.execute(text(f"""
            CREATE FUNCTION flaky() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF nextval('flaky_seq') <= {failures} THEN
                RAISE EXCEPTION 'injected %', '{errcode}' USING ERRCODE = '{errcode}';
              END IF;
              RETURN NEW;
            END $$"""))
        conn.execute(text("CREATE TRIGGER flaky BEFORE INSERT ON ledger_events "
                          "FOR EACH ROW EXECUTE FUNCTION flaky()"))
        upsert_skus(conn, [{"sku": "A", "name": "a"}])
        upsert_locations(conn, [{"location": "W"}])


def _receipt(eid: str) -> c.ReceiveStock:
    return c.ReceiveStock(event_id=eid, sku="A", location="W", quantity=3,
                          occurred_at=datetime(2024, 6, 1, tzinfo=UTC))


def _calls(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT last_value FROM flaky_seq")).scalar_one())


@pytest.mark.postgres
def test_ledger_batch_retried_on_serialization_failure(pg_engine) -> None:  # type: ignore[no-untyped-def]
    _flaky_trigger(pg_engine, "40001", failures=2)
    [res] = transact(pg_engine, apply_events, [_receipt("e1")])
    assert res.status == "applied"
    assert _calls(pg_engine) == 3  # two failed tries, then the one that committed
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT on_hand FROM stock")).scalar_one() == 3


@pytest.mark.postgres
def test_ledger_batch_not_retried_on_a_data_error(pg_engine) -> None:  # type: ignore[no-untyped-def]
    _flaky_trigger(pg_engine, "22003", failures=1)
    with pytest.raises(DataError):
        transact(pg_engine, apply_events, [_receipt("e1")])
    assert _calls(pg_engine) == 1  # raised at once
