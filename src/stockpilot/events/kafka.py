"""Kafka: a consumer group through the one consumer core, offsets committed after the ledger.

Publishing keys each event by ``sku@location``, so one SKU-location's events land in one
partition and stay in order; the event id rides in the ``event_id`` header and becomes the
message id the core dedups dead letters by. The producer is idempotent (``acks=all``), so a
retried send is not written twice.

Consuming (``consume``) polls up to ``batch`` messages, applies them with
:func:`stockpilot.events.consumer.commit_batch` (one transaction), and only then commits the
next offset of each partition in the batch, synchronously. A consumer killed between the ledger
commit and the offset commit gets its batch redelivered — to itself or, after a rebalance, to
another member of the group — and the ledger's dedup by event id turns the repeat into
``duplicate``: an event is never applied twice. Processing happens between polls, so a
rebalance (which librdkafka runs inside ``consume``) never lands mid-batch; a commit refused
because the group moved on is dropped for the same reason. Lag (``consumer_lag{source="kafka"}``)
is the sum over the assigned partitions of high watermark − offset, from the client's
statistics (:func:`lag_from_stats`).

The bootstrap servers come from ``--url``, else ``STOCKPILOT_KAFKA_BOOTSTRAP``, else the local
broker of ``scripts/kafka.sh`` (127.0.0.1:9092).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from stockpilot import metrics
from stockpilot.domain.series import SeriesKey
from stockpilot.events.consumer import BatchResult, Message, OnBatch, commit_batch

SOURCE = "kafka"
TOPIC = "stockpilot.events"
GROUP = "stockpilot-ledger"
PARTITIONS = 4
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
# How long one poll may wait to fill its batch once caught up: short, so a quiet stream's
# events are applied (and alerted on) within tens of milliseconds, as with NATS.
POLL_WAIT_S = 0.05
# Joining a group takes a rebalance (seconds; longer while a killed member's session runs
# out): the idle clock starts once partitions are assigned, but no later than this.
JOIN_WAIT_S = 30.0


class KafkaUnavailable(RuntimeError):
    """The client library is missing or the broker refused an operation."""


def bootstrap_of(url: str | None) -> str:
    """``kafka://h1:9092,h2:9092`` or ``h1:9092`` → ``h1:9092,...`` (default: env, local)."""
    url = url or os.environ.get("STOCKPILOT_KAFKA_BOOTSTRAP") or DEFAULT_BOOTSTRAP
    return url.removeprefix("kafka://")


def _lib() -> Any:
    try:
        import confluent_kafka
    except ImportError as exc:  # an optional extra
        raise KafkaUnavailable("Kafka needs confluent-kafka: pip install "
                               "'stockpilot[kafka]'") from exc
    return confluent_kafka


def key_of(body: bytes) -> bytes | None:
    """The partitioning key of an event body: ``sku@location`` (None if it has none)."""
    try:
        doc = json.loads(body)
        return str(SeriesKey(doc["sku"], doc["location"])).encode()
    except (ValueError, KeyError, TypeError):
        return None  # poison goes anywhere; the consumer dead-letters it


def ensure_topic(url: str | None, topic: str = TOPIC, partitions: int = PARTITIONS,
                 compact: bool = False) -> None:
    """Create ``topic`` if it does not exist (compacted by key when ``compact``)."""
    lib = _lib()
    from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

    admin = AdminClient({"bootstrap.servers": bootstrap_of(url)})
    config = {"cleanup.policy": "compact"} if compact else {}
    fut = admin.create_topics([NewTopic(topic, num_partitions=partitions,
                                        replication_factor=1, config=config)])[topic]
    try:
        fut.result(timeout=30)
    except lib.KafkaException as exc:
        if exc.args[0].code() != lib.KafkaError.TOPIC_ALREADY_EXISTS:
            raise KafkaUnavailable(f"cannot create Kafka topic {topic!r}: {exc}") from exc


def delete_topic(url: str | None, topic: str) -> None:
    """Delete ``topic`` (tests and benchmarks clean up); absent is fine."""
    _lib()
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap_of(url)})
    for fut in admin.delete_topics([topic]).values():
        with contextlib.suppress(Exception):  # already gone is what we want
            fut.result(timeout=30)


def producer(url: str | None) -> Any:
    """An idempotent producer (acks=all; a retried send is written once)."""
    return _lib().Producer({"bootstrap.servers": bootstrap_of(url), "enable.idempotence": True,
                            "linger.ms": 5, "compression.type": "lz4"})


def publish(url: str | None, messages: Sequence[tuple[str, bytes]], topic: str = TOPIC,
            keys: Sequence[bytes | None] | None = None) -> int:
    """Publish ``(event_id, body)`` pairs keyed by ``sku@location``; waits for every ack.

    Raises:
        KafkaUnavailable: a message could not be delivered.
    """
    ensure_topic(url, topic)
    prod = producer(url)
    failed: list[str] = []

    def done(err: Any, msg: Any) -> None:
        if err is not None:
            failed.append(f"{msg.topic()}: {err}")

    for i, (mid, body) in enumerate(messages):
        key = keys[i] if keys is not None else key_of(body)
        while True:
            try:
                prod.produce(topic, value=body, key=key, headers=[("event_id", mid.encode())],
                             on_delivery=done)
                break
            except BufferError:  # the local queue is full: let deliveries drain
                prod.poll(0.1)
        if i % 10_000 == 0:
            prod.poll(0)
    if prod.flush(60) or failed:
        raise KafkaUnavailable(f"{len(failed)} messages not delivered to {topic!r}: "
                               f"{failed[:3]}")
    return len(messages)


def _message(m: Any) -> Message:
    mid = next((v.decode() for k, v in (m.headers() or []) if k == "event_id" and v), None)
    return Message(mid or f"{m.topic()}/{m.partition()}/{m.offset()}", m.value() or b"", m)


def _commit_offsets(msgs: Sequence[Any]) -> list[Any]:
    from confluent_kafka import TopicPartition

    nxt: dict[tuple[str, int], int] = {}
    for m in msgs:
        key = (m.topic(), m.partition())
        nxt[key] = max(nxt.get(key, 0), m.offset() + 1)
    return [TopicPartition(t, p, o) for (t, p), o in nxt.items()]


def lag_from_stats(stats_json: str) -> int:
    """Messages waiting in the assigned partitions, from librdkafka's statistics.

    librdkafka computes each partition's ``consumer_lag`` (high watermark − committed or
    consumed offset) from the watermarks that fetch responses carry, so the gauge costs no
    round trip; -1 (unknown yet) counts as 0.
    """
    stats = json.loads(stats_json)
    return sum(max(0, int(p.get("consumer_lag", -1)))
               for topic in stats.get("topics", {}).values()
               for pid, p in topic.get("partitions", {}).items() if pid != "-1")


def _set_lag(stats_json: str) -> None:
    with contextlib.suppress(Exception):  # a metric must never stop the consumer
        metrics.CONSUMER_LAG.labels(SOURCE).set(lag_from_stats(stats_json))


def consumer(url: str | None, group: str = GROUP, member: str | None = None) -> Any:
    """A group member that commits offsets itself (never automatically)."""
    conf = {"bootstrap.servers": bootstrap_of(url), "group.id": group,
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            # a killed member's partitions move to the others after this long
            "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000,
            "client.id": member or "stockpilot",
            # consumer_lag{source="kafka"} from the client's statistics, once a second
            "statistics.interval.ms": 1000, "stats_cb": _set_lag}
    return _lib().Consumer(conf)


def consume(engine: Engine, url: str | None, batch: int = 1000, idle_exit: float = 2.0,
            on_batch: OnBatch | None = None, topic: str = TOPIC, group: str = GROUP,
            max_batches: int | None = None, member: str | None = None) -> BatchResult:
    """Poll, apply (one transaction per batch), commit offsets; stop after ``idle_exit`` s idle.

    ``on_batch`` runs after each batch's ledger commit and offset commit.
    """
    lib = _lib()
    ensure_topic(url, topic)
    cons = consumer(url, group, member)
    cons.subscribe([topic])
    total, done = BatchResult(), 0
    idle_since, joined_by = time.monotonic(), time.monotonic() + JOIN_WAIT_S
    try:
        while max_batches is None or done < max_batches:
            got = cons.consume(batch, timeout=POLL_WAIT_S)
            msgs = [m for m in got if m.error() is None]
            for m in got:
                if m.error() is not None and m.error().code() != lib.KafkaError._PARTITION_EOF:
                    raise KafkaUnavailable(f"Kafka consumer error on {topic!r}: {m.error()}")
            if not msgs:
                now = time.monotonic()
                if not cons.assignment() and now < joined_by:
                    idle_since = now  # still joining: not idle yet
                    continue
                if now - idle_since >= idle_exit:
                    break
                continue
            res = commit_batch(engine, SOURCE, [_message(m) for m in msgs])
            _commit(lib, cons, msgs)
            if on_batch is not None:
                on_batch(res)
            total.add(res)
            done += 1
            idle_since = time.monotonic()
    finally:
        cons.close()  # leave the group now: the others take its partitions at once
    return total


def _commit(lib: Any, cons: Any, msgs: Sequence[Any]) -> None:
    # refused when the group rebalanced under us: the new owner re-reads from the last
    # committed offset and the ledger's dedup by event id makes the repeat a no-op
    with contextlib.suppress(lib.KafkaException):
        cons.commit(offsets=_commit_offsets(msgs), asynchronous=False)
