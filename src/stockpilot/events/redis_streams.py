"""Redis Streams: a consumer group, XACK after the ledger commit, dead consumers' entries claimed.

A consumer first re-claims entries another consumer read but never acknowledged for longer
than ``min_idle_ms`` (XAUTOCLAIM) — that consumer died mid-batch — then reads new ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from stockpilot.events.consumer import BatchResult, Message, apply_messages

SOURCE = "redis"
STREAM = "stockpilot:events"
GROUP = "ledger"


def _client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def ensure_group(r: Any) -> None:
    """Create the stream and its consumer group if they do not exist."""
    import redis

    try:
        r.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def publish(url: str, messages: Sequence[tuple[str, bytes]]) -> int:
    """XADD ``(event_id, body)`` pairs (pipelined)."""
    r = _client(url)
    ensure_group(r)
    for start in range(0, len(messages), 1000):
        pipe = r.pipeline(transaction=False)
        for mid, body in messages[start:start + 1000]:
            pipe.xadd(STREAM, {"id": mid, "body": body})
        pipe.execute()
    return len(messages)


def _to_messages(entries: list[Any]) -> list[Message]:
    out = []
    for entry_id, fields in entries:
        if not fields:  # deleted entry
            continue
        out.append(Message(fields[b"id"].decode(), fields[b"body"], entry_id))
    return out


def consume(engine: Engine, url: str, consumer: str = "c1", batch: int = 1000,
            idle_exit: float = 2.0, min_idle_ms: int = 5000) -> BatchResult:
    """Claim stale pending entries, read new ones, apply each batch, XACK after commit."""
    r = _client(url)
    ensure_group(r)
    total = BatchResult()
    while True:
        _, claimed, _ = r.xautoclaim(STREAM, GROUP, consumer, min_idle_ms, "0-0", count=batch)
        entries = claimed
        if not entries:
            got = r.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=batch,
                               block=int(idle_exit * 1000))
            entries = got[0][1] if got else []
        if not entries:
            return total
        msgs = _to_messages(entries)
        res = apply_messages(engine, SOURCE, msgs)
        r.xack(STREAM, GROUP, *[e[0] for e in entries])
        total.applied += res.applied
        total.duplicate += res.duplicate
        total.dead += res.dead


def reset(url: str) -> None:
    """Delete the stream (tests and benchmarks start clean)."""
    _client(url).delete(STREAM)
