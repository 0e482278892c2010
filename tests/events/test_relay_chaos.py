"""Chaos: kill -9 the relay three times mid-stream; a deduping reader sees each change once.

For each bus (NATS JetStream, Redis Streams, Kafka): 1,500 committed receipts and sales over
30 SKU-locations sit in the outbox; the real ``stockpilot relay`` process is SIGKILLed three
times while it publishes, then runs to the end. Reading the bus back and dropping repeated
message ids must give every change exactly once, and per SKU-location in outbox order.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from stockpilot.domain.commands import ReceiveStock, RecordSale
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store import schema as t
from stockpilot.store.db import make_engine
from stockpilot.store.migrate import upgrade
from stockpilot.store.uow import transact

N_CHANGES, N_SKUS = 1500, 30
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def _published(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect().execution_options(readonly=True) as conn:
        return conn.execute(select(func.count()).select_from(t.outbox)
                            .where(t.outbox.c.published_at.is_not(None))).scalar_one()


def _run_relay(ws, to: str, url: str, name: str, engine, kill_after: int | None) -> None:  # type: ignore[no-untyped-def]
    cmd = [sys.executable, "-m", "stockpilot", "relay", "--to", to, "--url", url, "--name",
           name, "--batch", "20", "--idle-exit", "2", "-w", str(ws)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "STOCKPILOT_SQLITE_SYNCHRONOUS": "NORMAL"})
    if kill_after is None:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
        return
    target = _published(engine) + kill_after
    deadline = time.monotonic() + 60
    while _published(engine) < target and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def _read_nats(url: str, stream: str) -> list[tuple[str, bytes]]:
    async def run() -> list[tuple[str, bytes]]:
        import nats

        nc = await nats.connect(url)
        js = nc.jetstream()
        info = await js.stream_info(stream)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(stream, seq)
            out.append((msg.headers["Nats-Msg-Id"], msg.data))
        await js.delete_stream(stream)
        await nc.close()
        return out

    return asyncio.run(run())


def _read_redis(url: str, stream: str) -> list[tuple[str, bytes]]:
    import redis

    r = redis.Redis.from_url(url)
    out = [(f[b"id"].decode(), f[b"body"]) for _, f in r.xrange(stream)]
    r.delete(stream)
    return out


def _read_kafka(url: str, topic: str) -> list[tuple[str, bytes]]:
    from confluent_kafka import Consumer, TopicPartition

    from stockpilot.events import kafka

    cons = Consumer({"bootstrap.servers": url, "group.id": f"r-{uuid.uuid4().hex[:8]}",
                     "enable.auto.commit": False})
    parts = cons.list_topics(topic, timeout=10).topics[topic].partitions
    cons.assign([TopicPartition(topic, p, 0) for p in parts])
    out, idle_since = [], time.monotonic()
    while time.monotonic() - idle_since < 3:
        for m in cons.consume(500, 0.2):
            if m.error() is None:
                out.append((dict(m.headers())["event_id"].decode(), m.value()))
                idle_since = time.monotonic()
    cons.close()
    kafka.delete_topic(url, topic)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("to", [pytest.param("nats", marks=pytest.mark.nats),
                                pytest.param("redis", marks=pytest.mark.redis),
                                pytest.param("kafka", marks=pytest.mark.kafka)])
def test_kill_nine_the_relay_three_times_each_change_once_in_key_order(to, tmp_path, request):
    url = request.getfixturevalue(f"{to}_url")
    ws = tmp_path / "ws"
    ws.mkdir()
    engine = make_engine(f"sqlite:///{ws / 'stockpilot.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": f"K{i:02d}", "name": "k"} for i in range(N_SKUS)])
        upsert_locations(conn, [{"location": "W"}])
    cmds = [(RecordSale if i % 4 == 3 else ReceiveStock)(
        event_id=f"e{i}", sku=f"K{i % N_SKUS:02d}", location="W", quantity=1, occurred_at=NOW)
        for i in range(N_CHANGES)]
    applied = []
    for start in range(0, N_CHANGES, 500):  # several transactions, as writers make them
        res = transact(engine, apply_events, cmds[start:start + 500])
        applied += [r.event_id for r in res if r.status == "applied"]
    assert len(applied) > N_CHANGES * 0.9  # a few early sales find no stock: no change
    tag = uuid.uuid4().hex[:8]
    name = f"RELAY_{tag.upper()}" if to == "nats" else f"relay-{tag}"
    for n in (100, 200, 200):
        _run_relay(ws, to, url, name, engine, n)
    killed_at = _published(engine)
    assert 0 < killed_at < len(applied), killed_at  # every kill landed mid-stream
    _run_relay(ws, to, url, name, engine, None)
    got = {"nats": _read_nats, "redis": _read_redis, "kafka": _read_kafka}[to](url, name)
    seen: dict[str, dict] = {}
    for mid, body in got:
        seen.setdefault(mid, json.loads(body))  # the consumer's dedup by id
    assert len(seen) == len(applied)
    assert sorted(b["event"]["event_id"] for b in seen.values()) == sorted(applied)
    per_key: dict[str, list[int]] = {}
    for body in seen.values():  # first sightings, in the order the bus delivered them
        per_key.setdefault(body["key"], []).append(body["id"])
    assert all(ids == sorted(ids) for ids in per_key.values())
    assert len(got) >= len(applied)  # re-sends happened or not; either way nothing was lost
