"""Chaos: kill -9 the consumer three times mid-stream; after restart nothing is lost or doubled.

For each source (embedded queue, NATS JetStream, Redis Streams, Kafka): publish receipts for 40 SKUs
with 10% of the messages duplicated by the publisher, plus poison messages; run the real
``stockpilot stream`` process, SIGKILL it three times while it works, then drain. Every SKU's
on_hand must equal the sum of its distinct events exactly, the books must check, and every
poison message must sit in the dead-letter table once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from stockpilot.domain.commands import ReceiveStock
from stockpilot.events.schema import dump
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.positions import get_positions
from stockpilot.store import schema as t
from stockpilot.store import schema_events as te
from stockpilot.store.db import make_engine
from stockpilot.store.migrate import upgrade

N_EVENTS, N_SKUS = 3000, 40


def workload(seed: int = 4):
    rng = random.Random(seed)
    now = datetime(2024, 6, 1, tzinfo=UTC)
    events = [ReceiveStock(event_id=f"ev-{i}", sku=f"K{rng.randrange(N_SKUS):03d}",
                           location="W", quantity=rng.randint(1, 9), occurred_at=now)
              for i in range(N_EVENTS)]
    msgs = [(e.event_id, dump(e)) for e in events]
    dups = rng.sample(msgs, N_EVENTS // 10)
    poison = [("bad-json", b"{not json"), ("bad-qty", json.dumps(
        {"v": 1, "kind": "receipt", "event_id": "bad-qty", "sku": "K001", "location": "W",
         "quantity": "many", "occurred_at": "2024-06-01T00:00:00+00:00"}).encode()),
        ("unknown-sku", dump(ReceiveStock(event_id="unknown-sku", sku="NOPE", location="W",
                                          quantity=1, occurred_at=now)))]
    stream = msgs + dups + poison
    rng.shuffle(stream)
    expected: dict[str, int] = {}
    for e in events:
        expected[e.sku] = expected.get(e.sku, 0) + e.quantity
    return stream, expected


def applied(engine) -> int:  # type: ignore[no-untyped-def]
    # a read-only (deferred) transaction, so polling never takes SQLite's write lock
    with engine.connect().execution_options(readonly=True) as conn:
        return conn.execute(select(func.count()).select_from(t.ledger_events)).scalar_one()


def run_consumer(source: str, ws, url: str | None, kill_after: int | None,  # type: ignore[no-untyped-def]
                 engine=None, stream: str | None = None) -> int:
    """Run ``stockpilot stream``; with ``kill_after``, SIGKILL it once it has applied that many
    more events (so every kill lands mid-stream, whatever the machine's speed)."""
    cmd = [sys.executable, "-m", "stockpilot", "stream", "--source", source, "--batch", "40",
           "--idle-exit", "3", "-w", str(ws), "--consumer", "c1"]
    if url:
        cmd += ["--url", url]
    if stream:  # our own stream: parallel runs on the same server do not collide
        cmd += ["--stream-name", stream]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "STOCKPILOT_SQLITE_SYNCHRONOUS": "NORMAL"})
    if kill_after is None:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
        return applied(engine) if engine is not None else 0
    target = applied(engine) + kill_after
    deadline = time.monotonic() + 60
    while applied(engine) < target and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return applied(engine)


@pytest.mark.slow
@pytest.mark.parametrize("source", ["embedded", pytest.param("nats", marks=pytest.mark.nats),
                                    pytest.param("redis", marks=pytest.mark.redis),
                                    pytest.param("kafka", marks=pytest.mark.kafka)])
def test_kill_nine_three_times_loses_and_doubles_nothing(source, tmp_path, request):
    url = None
    if source == "nats":
        url = request.getfixturevalue("nats_url")
        from stockpilot.events import nats_js as bus
    elif source == "redis":
        url = request.getfixturevalue("redis_url")
        from stockpilot.events import redis_streams as bus
    elif source == "kafka":
        url = request.getfixturevalue("kafka_url")
        from stockpilot.events import kafka as bus
    ws = tmp_path / "ws"
    ws.mkdir()
    engine = make_engine(f"sqlite:///{ws / 'stockpilot.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": f"K{i:03d}", "name": "k"} for i in range(N_SKUS)])
        upsert_locations(conn, [{"location": "W"}])
    stream, expected = workload()
    name = f"T_{uuid.uuid4().hex[:10].upper()}"
    if source == "kafka":  # a topic of its own; the consumer's group is the default one
        bus.delete_topic(url, name)
        bus.publish(url, stream, topic=name)
    if source == "embedded":
        from stockpilot.events import embedded

        embedded.publish(engine, stream)
    elif source != "kafka":
        bus.reset(url, name)
        bus.publish(url, stream, stream=name)
    at_kill = [run_consumer(source, ws, url, n, engine, name) for n in (200, 400, 400)]
    assert at_kill[0] > 0 and all(n < N_EVENTS for n in at_kill), at_kill  # all mid-stream
    if source in ("redis", "nats"):
        time.sleep(5.5)  # a dead consumer's unacked messages come back after 5 s
    run_consumer(source, ws, url, None, stream=name)
    if source == "kafka":
        bus.delete_topic(url, name)
    elif source != "embedded":
        bus.reset(url, name)
    with engine.connect() as conn:
        on_hand = {p.sku: p.on_hand for p in get_positions(conn)}
        events = conn.execute(select(func.count()).select_from(t.ledger_events)).scalar_one()
        dead = conn.execute(select(te.dead_letters.c.message_id)).scalars().all()
        assert check_ledger(conn) == []
    assert on_hand == expected
    assert events == N_EVENTS
    assert sorted(dead) == ["bad-json", "bad-qty", "unknown-sku"]


def test_consumer_counts_outcomes_in_prometheus_metrics(sqlite_engine):
    from stockpilot.events import embedded
    from stockpilot.metrics import exposition

    with sqlite_engine.begin() as conn:
        upsert_skus(conn, [{"sku": "K000", "name": "k"}])
        upsert_locations(conn, [{"location": "W"}])
    stream, _ = workload()
    good = [m for m in stream if m[0].startswith("ev-")][:5]
    embedded.publish(sqlite_engine, [*good, ("junk", b"nope")])

    def value(outcome: str) -> float:
        for line in exposition().decode().splitlines():
            if line.startswith(f'stockpilot_events_total{{outcome="{outcome}",source="embedded"'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = value("dead")
    embedded.consume_once(sqlite_engine)
    assert value("dead") == before + 1 + sum(1 for m in good if b'"K000"' not in m[1])
    assert "stockpilot_apply_seconds_bucket" in exposition().decode()
