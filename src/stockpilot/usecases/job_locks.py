"""One run of a job at a time across processes: a lock per job name in the database.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) held on a connection kept
open for the job's length; it goes away with the connection if the process dies. SQLite has
no such lock, so a ``job_locks`` row is taken with a conditional write (insert, or take over a
row whose ``expires_at`` passed) and renewed by a heartbeat thread while the job runs; a holder
that died stops renewing and the row expires.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, text, update
from sqlalchemy.exc import IntegrityError

from stockpilot.store import schema_pipeline as tp

L = tp.job_locks.c
TTL = timedelta(minutes=5)


def holder_name() -> str:
    """Who holds a lock: host, process and thread (shown in the lock row)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (``hash()`` differs between processes)."""
    return int.from_bytes(hashlib.blake2b(f"stockpilot-job:{name}".encode(), digest_size=8)
                          .digest(), "big", signed=True)


@contextmanager
def job_lock(engine: Engine, name: str, ttl: timedelta = TTL) -> Iterator[bool]:
    """Hold the lock of job ``name`` for the block; yields False (at once) when another has it."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, name) as got:
            yield got
    else:
        with _lock_row(engine, name, ttl) as got:
            yield got


@contextmanager
def _advisory(engine: Engine, name: str) -> Iterator[bool]:
    key = advisory_key(name)
    with engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


@contextmanager
def _lock_row(engine: Engine, name: str, ttl: timedelta) -> Iterator[bool]:
    me = holder_name()
    if not _take(engine, name, me, ttl):
        yield False
        return
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(engine, name, me, ttl, stop), daemon=True,
                            name=f"lock-heartbeat-{name}")
    beat.start()
    try:
        yield True
    finally:
        stop.set()
        beat.join()
        with engine.begin() as conn:
            conn.execute(delete(tp.job_locks).where(L.name == name, L.holder == me))


def _take(engine: Engine, name: str, me: str, ttl: timedelta) -> bool:
    """Insert the row, or take over an expired one; True when this holder has it now."""
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            conn.execute(insert(tp.job_locks).values(name=name, holder=me, acquired_at=now,
                                                     expires_at=now + ttl))
        return True
    except IntegrityError:
        pass
    with engine.begin() as conn:
        return _renew(conn, name, me, ttl, take_expired=True)


def _renew(conn: Connection, name: str, me: str, ttl: timedelta, *,
           take_expired: bool = False) -> bool:
    now = datetime.now(UTC)
    cond = L.expires_at < now if take_expired else L.holder == me
    done = conn.execute(update(tp.job_locks).where(L.name == name, cond).values(
        holder=me, expires_at=now + ttl, **({"acquired_at": now} if take_expired else {})))
    return done.rowcount == 1


def _heartbeat(engine: Engine, name: str, me: str, ttl: timedelta,
               stop: threading.Event) -> None:
    """Push ``expires_at`` on every third of the TTL until the job ends."""
    while not stop.wait(ttl.total_seconds() / 3):
        with engine.begin() as conn:
            _renew(conn, name, me, ttl)
