"""Fixtures of the events tests: the Kafka broker (scripts/kafka.sh starts a local one)."""

from __future__ import annotations

import os
import uuid

import pytest

KAFKA_BOOTSTRAP = os.environ.get("STOCKPILOT_TEST_KAFKA_BOOTSTRAP", "127.0.0.1:9092")


@pytest.fixture(scope="session")
def kafka_url() -> str:
    """Bootstrap servers of the Kafka broker (skips, or fails under CI, when unreachable)."""
    import socket

    host, _, port = KAFKA_BOOTSTRAP.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), 2):
            pass
    except OSError as exc:
        msg = f"Kafka at {KAFKA_BOOTSTRAP} is not reachable ({exc}); start it: make kafka"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{msg}; under CI it must run")
        pytest.skip(msg)
    pytest.importorskip("confluent_kafka", reason="Kafka needs the kafka extra")
    return KAFKA_BOOTSTRAP


@pytest.fixture
def kafka_topic(kafka_url: str):
    """A topic of this test's own (parallel runs share the broker), deleted afterwards."""
    from stockpilot.events import kafka

    name = f"t-{uuid.uuid4().hex[:10]}"
    kafka.ensure_topic(kafka_url, name)
    yield name
    kafka.delete_topic(kafka_url, name)
