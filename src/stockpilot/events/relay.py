"""The outbox relay: publish committed ledger changes, in order, once per change per deduper.

Every ledger transaction writes one ``outbox`` row per applied event (same transaction, so a
row exists exactly when its change committed). The relay reads unpublished rows in id order,
sends them to a bus and waits for the bus to acknowledge them, and only then marks them
published. A relay killed between the send and the mark sends that batch again on restart:
each message carries the row's id as its message id (``outbox-<id>``), so a consumer that
dedups by id sees every change exactly once, and — since batches are sent in id order and
re-sent whole — in order per SKU-location (Kafka: one partition per ``sku@location`` key, an
idempotent producer; NATS: one subject; Redis: one stream).

Ids are handed out when a transaction inserts, not when it commits: on PostgreSQL a
transaction still open can hold id 104 while 105 is already visible. The relay therefore
publishes only a gap-free run of ids after the last one it published, and waits up to
``gap_wait_s`` for a gap to fill before it steps over it (a rolled-back transaction leaves
a gap forever). A row that commits later than that is still published — late, but once.

Destinations (``--to``): ``kafka`` (topic ``stockpilot.changes``, compacted, keyed by
``sku@location``, for shop frontends), ``nats`` (stream ``STOCKPILOT_CHANGES``), ``redis``
(stream ``stockpilot:changes``), ``embedded`` (no bus: the in-process subscribers only). In
every case the relay then runs ``on_batch`` — ``stockpilot relay --alerts`` passes the live
alert check, so any committed change, from the API, an import or a stream, is checked at once.

Each message body is JSON: ``{"id", "topic", "key", "event", "created_at", "stock"}``, where
``event`` is the ledger event as written and ``stock`` the SKU-location's position
(``on_hand``, ``reserved``, ``available``) when the relay read it — on a compacted topic the
last message per key is the latest position.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, func, select, tuple_, update

from stockpilot.domain.ledger import keys_of
from stockpilot.domain.series import SeriesKey
from stockpilot.events.consumer import BatchResult, OnBatch
from stockpilot.events.schema import BadMessage, parse
from stockpilot.store import schema as t

KAFKA_TOPIC = "stockpilot.changes"
NATS_STREAM = "STOCKPILOT_CHANGES"
REDIS_STREAM = "stockpilot:changes"
DESTINATIONS = ("embedded", "nats", "redis", "kafka")


@dataclass(frozen=True)
class Change:
    """One committed ledger change, as the outbox holds it."""

    id: int
    topic: str
    key: str
    payload: str
    created_at: datetime

    @property
    def message_id(self) -> str:
        """The id consumers dedup by: stable across re-sends."""
        return f"outbox-{self.id}"

    def touched(self) -> list[tuple[str, str]]:
        """The SKU-locations the change moved (two for a transfer)."""
        try:
            return keys_of(parse(self.payload))
        except BadMessage:  # not a ledger event body: its key is all we know
            key = SeriesKey.parse(self.key)
            return [(key.sku, key.location)]


class Publisher(Protocol):
    """Sends a batch and returns only once the bus has acknowledged all of it."""

    def send(self, changes: Sequence[Change], bodies: Sequence[bytes]) -> None:
        """Publish ``bodies`` (one per change, same order); raise if any is not acked."""


def pending(conn: Connection, limit: int) -> list[Change]:
    """Unpublished changes, oldest id first."""
    o = t.outbox.c
    rows = conn.execute(select(o.id, o.topic, o.key, o.payload, o.created_at)
                        .where(o.published_at.is_(None)).order_by(o.id).limit(limit)).all()
    return [Change(r.id, r.topic, r.key, _text(r.payload), r.created_at) for r in rows]


def last_published(conn: Connection) -> int:
    """The highest id already published (0 if none)."""
    o = t.outbox.c
    got = conn.execute(select(func.max(o.id)).where(o.published_at.is_not(None))).scalar()
    return int(got or 0)


def mark_published(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    """Record that ``ids`` reached the bus."""
    o = t.outbox.c
    for start in range(0, len(ids), 1000):  # keep IN lists short
        conn.execute(update(t.outbox).where(o.id.in_(ids[start:start + 1000]))
                     .values(published_at=now))


Key = tuple[str, str]


def positions(conn: Connection, keys: set[Key]) -> dict[Key, dict[str, int]]:
    """``on_hand``, ``reserved`` and ``available`` of each SKU-location now."""
    s = t.stock.c
    out: dict[Key, dict[str, int]] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        rows = conn.execute(select(s.sku, s.location, s.on_hand, s.reserved).where(
            tuple_(s.sku, s.location).in_(ordered[start:start + 500]))).all()
        for r in rows:
            out[(r.sku, r.location)] = {"on_hand": r.on_hand, "reserved": r.reserved,
                                        "available": r.on_hand - r.reserved}
    return out


def body_of(change: Change, stock: dict[str, int] | None) -> bytes:
    """The JSON message of one change."""
    return json.dumps({"id": change.id, "topic": change.topic, "key": change.key,
                       "event": json.loads(change.payload),
                       "created_at": change.created_at.isoformat(), "stock": stock},
                      separators=(",", ":")).encode()


def _text(payload: Any) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload)


class Relay:
    """Publishes the outbox in id order; one ``step`` sends and marks one batch."""

    def __init__(self, engine: Engine, publisher: Publisher, batch: int = 500,
                 gap_wait_s: float = 2.0, on_batch: OnBatch | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine, self.publisher, self.batch = engine, publisher, batch
        self.gap_wait_s, self.on_batch, self.clock = gap_wait_s, on_batch, clock
        with engine.connect() as conn:
            self.high = last_published(conn)
        self._gap_seen: tuple[int, float] | None = None  # (missing id, first seen)

    def step(self) -> int:
        """Publish one gap-free batch; return how many changes went out."""
        with self.engine.connect() as conn:
            ready = self._in_order(pending(conn, self.batch))
            if not ready:
                return 0
            touched = [ch.touched() for ch in ready]
            keys = {k for ks in touched for k in ks}
            stock = positions(conn, keys)
        bodies = [body_of(ch, stock.get(ks[0])) for ch, ks in zip(ready, touched, strict=True)]
        self.publisher.send(ready, bodies)  # raises unless the bus acked every one
        with self.engine.begin() as conn:
            mark_published(conn, [ch.id for ch in ready], datetime.now(UTC))
        self.high = max(self.high, ready[-1].id)
        if self.on_batch is not None:
            self.on_batch(BatchResult(applied=len(ready), touched=keys))
        return len(ready)

    def _in_order(self, rows: list[Change]) -> list[Change]:
        """The prefix of ``rows`` with no id missing after the last published one."""
        out: list[Change] = []
        expected = self.high + 1
        for ch in rows:
            if ch.id <= self.high:  # committed after we stepped over its gap: late, once
                out.append(ch)
                continue
            if ch.id != expected and not self._gap_expired(expected):
                break
            out.append(ch)
            expected = ch.id + 1
        return out

    def _gap_expired(self, missing: int) -> bool:
        now = self.clock()
        if self._gap_seen is None or self._gap_seen[0] != missing:
            self._gap_seen = (missing, now)
        return now - self._gap_seen[1] >= self.gap_wait_s

    def run(self, idle_exit: float = 0.0, poll_s: float = 0.05) -> int:
        """Step until ``idle_exit`` s pass with nothing to send (0: forever); return the count."""
        total, idle_since = 0, self.clock()
        while True:
            sent = self.step()
            total += sent
            if sent:
                idle_since = self.clock()
                continue
            if idle_exit and self.clock() - idle_since >= idle_exit:
                return total
            time.sleep(poll_s)
