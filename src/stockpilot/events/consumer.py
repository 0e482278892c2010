"""The one consumer core: apply a batch of messages to the ledger in one transaction.

Every adapter (embedded queue, NATS JetStream, Redis Streams, the REST route) hands a batch of
``Message``s here. Valid events are applied with :func:`stockpilot.ledger.service.apply_events`
(idempotent by event id in that same transaction); anything that cannot be applied — invalid
JSON or schema, unknown SKU or location, an oversell, an event id reused for another body —
goes to ``dead_letters`` with its reason, in the same transaction, and the stream keeps
flowing. The adapter acknowledges only after this returns (i.e. after commit): a crash before
the ack means redelivery, which the ledger's dedup and the dead letters' unique key absorb.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from stockpilot import metrics, retry
from stockpilot.domain.bounds import MESSAGE_ID_LEN, fit_id
from stockpilot.domain.commands import LedgerCommand
from stockpilot.domain.ledger import keys_of
from stockpilot.events.schema import BadMessage, parse
from stockpilot.ledger.service import EventResult, apply_events
from stockpilot.store import schema_events as te
from stockpilot.store.bulk import bulk_insert
from stockpilot.store.db import dialect_insert
from stockpilot.store.uow import transact


@dataclass(frozen=True)
class Message:
    """One message from a source: its id there, its body, and how to acknowledge it."""

    message_id: str
    body: bytes
    ack_token: Any = None


@dataclass
class BatchResult:
    """Counts of what a batch did."""

    applied: int = 0
    duplicate: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)
    #: SKU-locations whose stock the batch changed (what the live alert check looks at)
    touched: set[tuple[str, str]] = field(default_factory=set)

    def add(self, other: BatchResult) -> BatchResult:
        """Accumulate ``other`` into this one (counts and touched keys)."""
        self.applied += other.applied
        self.duplicate += other.duplicate
        self.dead += other.dead
        self.touched |= other.touched
        return self


#: Called by an adapter after each batch is committed and acknowledged.
OnBatch = Callable[[BatchResult], None]


class LagProbe:
    """Sets ``consumer_lag{source}`` from ``measure()`` at most once per ``every_s``.

    Measuring costs a round trip (or a COUNT), so it is throttled rather than done per batch.
    """

    def __init__(self, source: str, measure: Callable[[], int], every_s: float = 1.0) -> None:
        self.source, self.measure, self.every_s = source, measure, every_s
        self._next = 0.0

    def __call__(self, force: bool = False) -> None:
        """Measure now if due (or ``force``); failures to measure leave the gauge as it was."""
        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + self.every_s
        with contextlib.suppress(Exception):  # a metric must never stop the consumer
            metrics.CONSUMER_LAG.labels(self.source).set(self.measure())


def commit_batch(engine: Engine, source: str, messages: Sequence[Message],
                 extra: Callable[[Connection, BatchResult], None] | None = None
                 ) -> BatchResult:
    """The consumers' batch: :func:`apply_messages` in a unit of work of its own, then counted.

    ``extra(conn, result)`` runs inside that transaction after the ledger work — e.g. marking
    inbox rows done. A transient failure retries the whole unit under the one retry policy
    (:func:`stockpilot.store.uow.transact`); the metrics count only what was committed.
    """

    def work(conn: Connection) -> BatchResult:
        result = apply_messages(conn, source, messages)
        if extra is not None:
            extra(conn, result)
        return result

    with metrics.APPLY_SECONDS.labels(source).time():
        result = transact(engine, work)
    count(source, result)
    return result


def apply_messages(conn: Connection, source: str, messages: Sequence[Message]) -> BatchResult:
    """Apply a batch on the caller's open transaction (the caller commits, then counts).

    An event the database refuses (a value it will not store despite the ledger's bounds) is
    dead-lettered and every other one applied, so no event can stop the stream: the batch runs
    in a savepoint, and again one savepoint per event if the database refused it.
    """
    try:
        with conn.begin_nested():
            return _apply(conn, source, messages)
    except STORAGE_ERRORS as exc:
        if retry.is_transient_db_error(exc):
            raise
    return _apply_isolated(conn, source, messages)


def count(source: str, result: BatchResult) -> None:
    """Add a committed batch's outcomes to the metrics."""
    for outcome in ("applied", "duplicate", "dead"):
        metrics.EVENTS.labels(source, outcome).inc(getattr(result, outcome))


#: Errors of a database (or its driver) refusing a value: the driver's own (wrapped by
#: SQLAlchemy) and the ones Python raises binding a parameter (SQLite: ints past 64 bits).
STORAGE_ERRORS = (DBAPIError, OverflowError)
#: Dead-letter bodies and reasons are kept up to this many characters (the rest is cut, and
#: the cut is said): one huge invalid message must not grow the table by its size.
DEAD_BODY_CHARS = 65_536
DEAD_REASON_CHARS = 2_000


def _parsed(source: str, messages: Sequence[Message], dead: list[dict[str, Any]]
            ) -> tuple[list[LedgerCommand], list[Message]]:
    commands, origin = [], []
    for msg in messages:
        try:
            commands.append(parse(msg.body))
            origin.append(msg)
        except BadMessage as exc:
            dead.append(_dead(source, msg, "BadMessage", exc.reason))
    return commands, origin


def _apply(conn: Connection, source: str, messages: Sequence[Message]) -> BatchResult:
    out, dead = BatchResult(), list[dict[str, Any]]()
    commands, origin = _parsed(source, messages, dead)
    for cmd, msg, res in zip(commands, origin, apply_events(conn, commands), strict=True):
        _tally(out, dead, source, cmd, msg, res)
    return _finish(conn, out, dead)


def _apply_isolated(conn: Connection, source: str, messages: Sequence[Message]) -> BatchResult:
    """:func:`_apply`, one savepoint per event: a database refusal dead-letters that event."""
    out, dead = BatchResult(), list[dict[str, Any]]()
    commands, origin = _parsed(source, messages, dead)
    for cmd, msg in zip(commands, origin, strict=True):
        try:
            with conn.begin_nested():
                [res] = apply_events(conn, [cmd])
        except STORAGE_ERRORS as exc:
            if retry.is_transient_db_error(exc):
                raise
            dead.append(_dead(source, msg, "StorageRejected", _storage_reason(exc)))
            continue
        _tally(out, dead, source, cmd, msg, res)
    return _finish(conn, out, dead)


def _tally(out: BatchResult, dead: list[dict[str, Any]], source: str, cmd: LedgerCommand,
           msg: Message, res: EventResult) -> None:
    if res.status == "applied":
        out.applied += 1
        out.touched.update(keys_of(cmd))
    elif res.status == "duplicate":
        out.duplicate += 1
    else:
        dead.append(_dead(source, msg, res.error_type or "Rejected", res.error or ""))


def _finish(conn: Connection, out: BatchResult, dead: list[dict[str, Any]]) -> BatchResult:
    if dead:
        _insert_dead(conn, dead)
    out.dead = len(dead)
    return out


def _storage_reason(exc: BaseException) -> str:
    """The database's refusal in one line (first line of the driver's message)."""
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return f"the database refused the event: {first}"


def _safe_text(text: str, limit: int) -> str:
    """``text`` storable anywhere: NUL escaped, cut to ``limit`` characters (cut said).

    PostgreSQL text cannot hold a NUL character; it is written as a JSON-style escape.
    """
    text = text.replace("\x00", "\\u0000")
    if len(text) <= limit:
        return text
    return text[:limit] + f"… [{len(text) - limit} more characters not kept]"


def _dead(source: str, msg: Message, kind: str, reason: str) -> dict[str, Any]:
    message_id = fit_id(_safe_text(msg.message_id, 10_000), MESSAGE_ID_LEN)
    return {"source": source, "message_id": message_id,
            "body": _safe_text(msg.body.decode("utf-8", "replace"), DEAD_BODY_CHARS),
            "error_type": kind, "reason": _safe_text(reason, DEAD_REASON_CHARS),
            "created_at": datetime.now(UTC)}


def _insert_dead(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if conn.dialect.name == "postgresql":  # one statement, not one per row
        bulk_insert(conn, te.dead_letters, rows, skip_conflicts=True)
        return
    conn.execute(dialect_insert(conn, te.dead_letters).on_conflict_do_nothing(), rows)
