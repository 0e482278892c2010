"""The embedded queue: an ``inbox`` table in the workspace database (the default source).

Publishing inserts rows; the consumer takes the oldest pending rows, applies them and marks
them done in one transaction — so a restart (even ``kill -9``) loses nothing and repeats
nothing, with no broker to run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, select, update

from stockpilot.domain.bounds import EVENT_ID_LEN, fit_id
from stockpilot.events.consumer import BatchResult, LagProbe, Message, OnBatch, commit_batch
from stockpilot.store import schema_events as te
from stockpilot.store.bulk import bulk_insert

SOURCE = "embedded"


def publish(engine: Engine, messages: Sequence[tuple[str, bytes]]) -> int:
    """Append ``(message_id, body)`` pairs to the inbox in one transaction."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        # a transport id longer than the column keeps a hash of the whole (never cut): the
        # event inside is judged by the consumer, which dead-letters it if it is out of bounds
        bulk_insert(conn, te.inbox, [{"message_id": fit_id(m, EVENT_ID_LEN),
                                      "body": b.decode("utf-8", "replace"), "created_at": now}
                                     for m, b in messages])
    return len(messages)


def consume_once(engine: Engine, batch: int = 1000, on_batch: OnBatch | None = None,
                 lag: LagProbe | None = None) -> BatchResult | None:
    """Apply up to ``batch`` pending messages; None when the inbox is empty.

    ``on_batch`` runs after the commit (e.g. the live alert check); ``lag`` (default: a
    probe counting pending rows at most once a second) keeps ``consumer_lag`` current.
    """
    i = te.inbox.c
    with engine.connect() as conn:
        rows = conn.execute(select(i.id, i.message_id, i.body).where(i.done_at.is_(None))
                            .order_by(i.id).limit(batch)).all()
    probe = lag or _probe(engine)
    if not rows:
        probe(force=True)
        return None
    ids = [r.id for r in rows]

    def mark(conn: Connection, _result: BatchResult) -> None:
        done = conn.execute(update(te.inbox).where(i.id.in_(ids), i.done_at.is_(None))
                            .values(done_at=datetime.now(UTC)))
        if done.rowcount != len(ids):  # another consumer took them: roll everything back
            raise RuntimeError("inbox rows were consumed concurrently")

    result = commit_batch(engine, SOURCE,
                            [Message(r.message_id, r.body.encode(), r.id) for r in rows], mark)
    probe()
    if on_batch is not None:
        on_batch(result)
    return result


_PROBE: list[tuple[Engine, LagProbe]] = []  # the last engine's probe (one consumer a process)


def _probe(engine: Engine) -> LagProbe:
    if not _PROBE or _PROBE[0][0] is not engine:
        _PROBE[:] = [(engine, LagProbe(SOURCE, lambda: pending(engine)))]
    return _PROBE[0][1]


def pending(engine: Engine) -> int:
    """Messages not yet applied (the consumer lag)."""
    with engine.connect() as conn:
        n: int = conn.execute(select(func.count()).select_from(te.inbox)
                              .where(te.inbox.c.done_at.is_(None))).scalar_one()
    return n
