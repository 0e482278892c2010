"""Where the outbox relay sends changes: one publisher per bus, each waiting for the acks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stockpilot.events import relay


class EmbeddedPublisher:
    """No bus: the relay only drives its in-process subscribers (the live alert check)."""

    def send(self, changes: Sequence[relay.Change], bodies: Sequence[bytes]) -> None:
        """Nothing to send."""


class KafkaPublisher:
    """A compacted topic keyed by ``sku@location`` (the last message per key is the latest)."""

    def __init__(self, url: str | None, topic: str = relay.KAFKA_TOPIC) -> None:
        from stockpilot.events import kafka

        self.kafka, self.topic = kafka, topic
        kafka.ensure_topic(url, topic, compact=True)
        self.producer: Any = kafka.producer(url)

    def send(self, changes: Sequence[relay.Change], bodies: Sequence[bytes]) -> None:
        """Produce the batch in order and flush; raise if any message was not acknowledged."""
        failed: list[str] = []

        def done(err: Any, _msg: Any) -> None:
            if err is not None:
                failed.append(str(err))

        for ch, body in zip(changes, bodies, strict=True):
            while True:
                try:
                    self.producer.produce(self.topic, value=body, key=ch.key.encode(),
                                          headers=[("event_id", ch.message_id.encode())],
                                          on_delivery=done)
                    break
                except BufferError:
                    self.producer.poll(0.1)
        if self.producer.flush(60) or failed:
            raise self.kafka.KafkaUnavailable(
                f"{len(failed)} outbox changes not acknowledged by {self.topic!r}: {failed[:3]}")


class NatsPublisher:
    """A JetStream stream; ``Nats-Msg-Id`` is the change id (the server drops re-sends too)."""

    def __init__(self, url: str, stream: str = relay.NATS_STREAM) -> None:
        self.url, self.stream = url, stream

    def send(self, changes: Sequence[relay.Change], bodies: Sequence[bytes]) -> None:
        """Publish and wait for every ack."""
        from stockpilot.events import nats_js

        nats_js.publish(self.url, [(ch.message_id, b) for ch, b in zip(changes, bodies,
                                                                        strict=True)],
                        stream=self.stream)


class RedisPublisher:
    """A Redis stream; each entry's ``id`` field is the change id."""

    def __init__(self, url: str, stream: str = relay.REDIS_STREAM) -> None:
        self.url, self.stream = url, stream

    def send(self, changes: Sequence[relay.Change], bodies: Sequence[bytes]) -> None:
        """XADD the batch (pipelined; the replies are the acks)."""
        from stockpilot.events import redis_streams

        redis_streams.publish(self.url, [(ch.message_id, b) for ch, b in zip(changes, bodies,
                                                                              strict=True)],
                              stream=self.stream)


URLS = {"nats": "nats://127.0.0.1:4222", "redis": "redis://127.0.0.1:6379/0"}


def publisher(to: str, url: str | None = None, name: str | None = None) -> relay.Publisher:
    """The publisher for ``--to`` (``name``: topic / stream other than the default).

    Raises:
        ValueError: an unknown destination.
    """
    if to == "embedded":
        return EmbeddedPublisher()
    if to == "kafka":
        return KafkaPublisher(url, name or relay.KAFKA_TOPIC)
    if to == "nats":
        return NatsPublisher(url or URLS["nats"], name or relay.NATS_STREAM)
    if to == "redis":
        return RedisPublisher(url or URLS["redis"], name or relay.REDIS_STREAM)
    raise ValueError(f"unknown relay destination {to!r}: one of {', '.join(relay.DESTINATIONS)}")
