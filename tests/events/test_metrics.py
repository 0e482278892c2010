"""Prometheus metrics the consumer keeps: lag per source (embedded, NATS, Redis), apply latency."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from stockpilot import metrics
from stockpilot.domain.commands import ReceiveStock
from stockpilot.events import embedded
from stockpilot.events.consumer import LagProbe
from stockpilot.events.schema import dump
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus


def _messages(n: int) -> list[tuple[str, bytes]]:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    return [(f"m-{uuid.uuid4().hex}", dump(ReceiveStock(
        event_id=f"m-{i}-{uuid.uuid4().hex[:6]}", sku="K", location="W", quantity=1,
        occurred_at=now))) for i in range(n)]


@pytest.fixture
def catalogue(sqlite_engine):
    with sqlite_engine.begin() as conn:
        upsert_skus(conn, [{"sku": "K", "name": "k"}])
        upsert_locations(conn, [{"location": "W"}])
    return sqlite_engine


def lag(source: str) -> float | None:
    return metrics.value("stockpilot_consumer_lag", source=source)


def test_embedded_lag_is_the_pending_inbox(catalogue):
    embedded.publish(catalogue, _messages(10))
    probe = LagProbe("embedded", lambda: embedded.pending(catalogue))
    before = metrics.value("stockpilot_apply_seconds_count", source="embedded") or 0
    embedded.consume_once(catalogue, batch=4, lag=probe)
    assert lag("embedded") == 6
    assert metrics.value("stockpilot_apply_seconds_count", source="embedded") == before + 1
    while embedded.consume_once(catalogue, batch=4, lag=probe):
        pass
    assert lag("embedded") == 0


@pytest.mark.nats
def test_nats_lag_is_the_consumers_pending_count(catalogue, nats_url):
    from stockpilot.events import nats_js

    name = f"T_{uuid.uuid4().hex[:10].upper()}"
    nats_js.publish(nats_url, _messages(10), stream=name)
    try:
        res = asyncio.run(nats_js.consume_async(catalogue, nats_url, batch=4, idle_exit=1,
                                                max_batches=1, stream=name))
        assert res.applied == 4
        assert lag("nats") == 6
        assert nats_js.pending(nats_url, name) == 6
        nats_js.consume(catalogue, nats_url, batch=4, idle_exit=0.5, stream=name)
        assert lag("nats") == 0
    finally:
        nats_js.reset(nats_url, name)


@pytest.mark.redis
def test_redis_lag_is_unread_plus_unacknowledged(catalogue, redis_url):
    import redis

    from stockpilot.events import redis_streams

    name = f"t:{uuid.uuid4().hex[:10]}"
    r = redis.Redis.from_url(redis_url)
    redis_streams.publish(redis_url, _messages(10), stream=name)
    try:
        assert redis_streams.lag_of(r, name) == 10
        seen = []
        redis_streams.consume(catalogue, redis_url, batch=4, idle_exit=0.3, stream=name,
                              on_batch=lambda _res: seen.append(lag("redis")))
        assert seen[0] == 6  # after the first batch of 4 was applied and acknowledged
        assert lag("redis") == 0 and redis_streams.lag_of(r, name) == 0
    finally:
        redis_streams.reset(redis_url, name)
