"""Kafka: keyed publishing, the consumer group through the core, offsets after the ledger."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from stockpilot import metrics
from stockpilot.domain.commands import ReceiveStock, RecordSale
from stockpilot.events import kafka
from stockpilot.events.schema import dump
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.positions import get_positions
from stockpilot.store import schema as t
from stockpilot.store import schema_events as te
from stockpilot.store.db import make_engine
from stockpilot.store.migrate import upgrade

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def test_events_are_keyed_by_sku_at_location_and_poison_has_no_key():
    body = dump(ReceiveStock(event_id="e1", sku="A-1", location="W", quantity=3,
                             occurred_at=NOW))
    assert kafka.key_of(body) == b"A-1@W"
    assert kafka.key_of(b"{not json") is None
    assert kafka.key_of(b'{"kind": "receipt"}') is None


def test_bootstrap_comes_from_the_url_then_the_environment(monkeypatch):
    monkeypatch.delenv("STOCKPILOT_KAFKA_BOOTSTRAP", raising=False)
    assert kafka.bootstrap_of(None) == "127.0.0.1:9092"
    monkeypatch.setenv("STOCKPILOT_KAFKA_BOOTSTRAP", "k1:9092,k2:9092")
    assert kafka.bootstrap_of(None) == "k1:9092,k2:9092"
    assert kafka.bootstrap_of("kafka://h:9093") == "h:9093"


def _book(engine, skus: int) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": f"K{i:03d}", "name": "k"} for i in range(skus)])
        upsert_locations(conn, [{"location": "W"}])


def _stream(n: int, skus: int, seed: int = 5):
    """Receipts, then sales that only a correct per-key order can fill, plus duplicates."""
    rng = random.Random(seed)
    events, expected = [], dict.fromkeys((f"K{i:03d}" for i in range(skus)), 0)
    for i in range(n):
        sku = f"K{rng.randrange(skus):03d}"
        if expected[sku] >= 3 and rng.random() < 0.3:  # sells what earlier receipts brought
            q = rng.randint(1, expected[sku])
            events.append(RecordSale(event_id=f"s{i}", sku=sku, location="W", quantity=q,
                                     occurred_at=NOW))
            expected[sku] -= q
        else:
            q = rng.randint(1, 9)
            events.append(ReceiveStock(event_id=f"r{i}", sku=sku, location="W", quantity=q,
                                       occurred_at=NOW))
            expected[sku] += q
    msgs = [(e.event_id, dump(e)) for e in events]
    return msgs, expected


@pytest.mark.kafka
def test_consumer_applies_in_key_order_commits_offsets_and_reports_lag(
        engine, kafka_url, kafka_topic):
    _book(engine, 20)
    msgs, expected = _stream(1500, 20)
    poison = [("junk", b"{nope")]
    dups = msgs[:100]  # the publisher sends some twice
    kafka.publish(kafka_url, msgs + poison + dups, topic=kafka_topic)
    group = f"g-{uuid.uuid4().hex[:8]}"
    res = kafka.consume(engine, kafka_url, batch=200, idle_exit=1.5, topic=kafka_topic,
                        group=group)
    # every sale was covered by the receipts before it on its key: any reordering would
    # have dead-lettered an oversell
    assert (res.applied, res.duplicate, res.dead) == (1500, 100, 1)
    with engine.connect() as conn:
        assert {p.sku: p.on_hand for p in get_positions(conn)} == expected
        assert check_ledger(conn) == []
        dead = conn.execute(select(te.dead_letters.c.message_id)).scalars().all()
    assert dead == ["junk"]
    assert metrics.value("stockpilot_consumer_lag", source="kafka") == 0
    # offsets were committed: the same group starts after them and applies nothing
    again = kafka.consume(engine, kafka_url, batch=200, idle_exit=1.0, topic=kafka_topic,
                          group=group)
    assert (again.applied, again.duplicate, again.dead) == (0, 0, 0)


@pytest.mark.kafka
@pytest.mark.slow
def test_two_consumers_in_one_group_split_partitions_and_apply_each_event_once(
        tmp_path, kafka_url, kafka_topic):
    db = f"sqlite:///{tmp_path / 'stockpilot.db'}"
    engine = make_engine(db)
    upgrade(engine)
    _book(engine, 40)
    msgs, expected = _stream(4000, 40, seed=6)
    kafka.publish(kafka_url, msgs, topic=kafka_topic)
    group = f"g-{uuid.uuid4().hex[:8]}"
    results: dict[str, object] = {}

    def member(name: str) -> None:
        results[name] = kafka.consume(make_engine(db), kafka_url, batch=25, idle_exit=8.0,
                                      topic=kafka_topic, group=group, member=name)

    threads = [threading.Thread(target=member, args=(n,)) for n in ("m1", "m2")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=240)
    a, b = results["m1"], results["m2"]
    assert a.applied > 0 and b.applied > 0, (a, b)  # type: ignore[attr-defined]  # both worked
    assert a.applied + b.applied == len(msgs)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        n_events = conn.execute(select(func.count()).select_from(t.ledger_events)).scalar_one()
        assert {p.sku: p.on_hand for p in get_positions(conn)} == expected
        assert check_ledger(conn) == []
    assert n_events == len(msgs)
