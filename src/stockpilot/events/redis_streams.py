"""Redis Streams: a consumer group, XACK after the ledger commit, dead consumers' entries claimed.

A consumer first re-claims entries another consumer read but never acknowledged for longer
than ``min_idle_ms`` (XAUTOCLAIM) — that consumer died mid-batch — then reads new ones.
``stream`` names the stream key (default ``stockpilot:events``), so parallel runs can share a
server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from stockpilot.events.consumer import BatchResult, LagProbe, Message, OnBatch, commit_batch

SOURCE = "redis"
STREAM = "stockpilot:events"
GROUP = "ledger"


def _client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def ensure_group(r: Any, stream: str = STREAM) -> None:
    """Create the stream and its consumer group if they do not exist."""
    import redis

    try:
        r.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def publish(url: str, messages: Sequence[tuple[str, bytes]], stream: str = STREAM) -> int:
    """XADD ``(event_id, body)`` pairs (pipelined)."""
    r = _client(url)
    ensure_group(r, stream)
    for start in range(0, len(messages), 1000):
        pipe = r.pipeline(transaction=False)
        for mid, body in messages[start:start + 1000]:
            pipe.xadd(stream, {"id": mid, "body": body})
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
            idle_exit: float = 2.0, min_idle_ms: int = 5000, on_batch: OnBatch | None = None,
            stream: str = STREAM) -> BatchResult:
    """Claim stale pending entries, read new ones, apply each batch, XACK after commit."""
    r = _client(url)
    ensure_group(r, stream)
    total = BatchResult()
    lag = LagProbe(SOURCE, lambda: lag_of(r, stream))
    while True:
        _, claimed, _ = r.xautoclaim(stream, GROUP, consumer, min_idle_ms, "0-0", count=batch)
        entries = claimed
        if not entries:
            got = r.xreadgroup(GROUP, consumer, {stream: ">"}, count=batch,
                               block=int(idle_exit * 1000))
            entries = got[0][1] if got else []
        if not entries:
            lag(force=True)
            return total
        res = commit_batch(engine, SOURCE, _to_messages(entries))
        r.xack(stream, GROUP, *[e[0] for e in entries])
        lag()
        if on_batch is not None:
            on_batch(res)
        total.add(res)


def lag_of(r: Any, stream: str = STREAM) -> int:
    """Entries the group has not read yet (``lag``, Redis ≥ 7) plus read but unacknowledged."""
    for g in r.xinfo_groups(stream):
        if g["name"] in (GROUP, GROUP.encode()):
            undelivered = g.get("lag")
            if undelivered is None:  # Redis < 7 or an unknown lag: count past the last id
                undelivered = len(r.xrange(stream, _after(g["last-delivered-id"]), "+"))
            return int(undelivered) + int(g["pending"])
    return int(r.xlen(stream))


def _after(entry_id: bytes | str) -> str:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return f"({text}"


def reset(url: str, stream: str = STREAM) -> None:
    """Delete the stream (tests and benchmarks start clean)."""
    _client(url).delete(stream)
