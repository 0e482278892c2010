"""Poison events never stop the stream: each is dead-lettered, every valid event behind it applied.

The matrix of issue 17 item 1: on the embedded inbox, NATS JetStream and Redis Streams, and on
SQLite and PostgreSQL, publish each poison case between valid events and run the real
``stockpilot stream`` process once. Before the bounds (stockpilot.domain.bounds) the consumer
crashed on the first of them at every redelivery and applied nothing behind it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, func, select, text

from stockpilot.domain.commands import ReceiveStock
from stockpilot.events.schema import dump
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.positions import get_positions
from stockpilot.store import schema as t
from stockpilot.store import schema_events as te
from stockpilot.store.db import make_engine
from stockpilot.store.migrate import upgrade

AT = "2024-01-01T00:00:00Z"


def _raw(event_id: str, **fields: object) -> bytes:
    body = {"kind": "receipt", "event_id": event_id, "sku": "SKU-A", "location": "ONLINE",
            "quantity": 3, "occurred_at": AT, **fields}
    return json.dumps(body).encode()


#: message id → body: each case of the issue, and what the database could not hold
POISON: dict[str, bytes] = {
    "p-int32": _raw("p-int32", quantity=3_000_000_000),
    "p-price": _raw("p-price", kind="sale", quantity=1, unit_price=1e10,
                    customer_id="C1"),
    "p-nul": _raw("p-nul", reference="a\x00b"),
    "p-lot": _raw("p-lot", sku="LOT-A", lot_code="L" * 65, expiry="2025-01-01"),
    "p-int64": _raw("p-int64", quantity=2**63),
    "e" * 150: _raw("e" * 150),
    "p-po": _raw("p-po", purchase_order_id=987654),
    "p-sum": _raw("p-sum", sku="BIG", quantity=2_000_000_000),  # BIG holds 2e9 already
}


def _stream() -> tuple[list[tuple[str, bytes]], dict[str, int]]:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    valid = [ReceiveStock(event_id=f"ok-{i}", sku=("SKU-A", "SKU-B")[i % 2], location="ONLINE",
                          quantity=1 + i % 5, occurred_at=now) for i in range(40)]
    valid.insert(0, ReceiveStock(event_id="big-1", sku="BIG", location="ONLINE",
                                 quantity=2_000_000_000, occurred_at=now))
    out: list[tuple[str, bytes]] = []
    poison = list(POISON.items())
    for i, ev in enumerate(valid):
        out.append((ev.event_id, dump(ev)))
        if i % 5 == 1 and poison:
            out.append(poison.pop(0))  # each poison case sits between valid events
    out += poison
    expected: dict[str, int] = {}
    for ev in valid:
        expected[ev.sku] = expected.get(ev.sku, 0) + ev.quantity
    return out, expected


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ws' / 'stockpilot.db'}"
        return
    base = request.getfixturevalue("pg_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{base}?options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("source", ["embedded", pytest.param("nats", marks=pytest.mark.nats),
                                    pytest.param("redis", marks=pytest.mark.redis)])
def test_every_poison_case_is_dead_lettered_and_the_stream_flows(source, db_url, tmp_path,
                                                                  request):
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": s, "name": s} for s in ("SKU-A", "SKU-B", "BIG")]
                    + [{"sku": "LOT-A", "name": "lot", "lot_tracked": True}])
        upsert_locations(conn, [{"location": "ONLINE"}])
    messages, expected = _stream()
    url, name = None, f"P_{uuid.uuid4().hex[:10].upper()}"
    if source == "embedded":
        from stockpilot.events import embedded

        embedded.publish(engine, messages)
    else:
        url = request.getfixturevalue(f"{source}_url")
        from stockpilot.events import nats_js, redis_streams

        bus = nats_js if source == "nats" else redis_streams
        bus.reset(url, name)
        bus.publish(url, messages, stream=name)
    cmd = [sys.executable, "-m", "stockpilot", "stream", "--source", source, "--batch", "10",
           "--idle-exit", "2", "-w", str(ws), "--db", db_url, "--stream-name", name]
    if url:
        cmd += ["--url", url]
    proc = subprocess.run(cmd, capture_output=True, timeout=180, env=dict(os.environ))
    if source != "embedded":
        bus.reset(url, name)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    with engine.connect() as conn:
        on_hand = {p.sku: p.on_hand for p in get_positions(conn) if p.on_hand}
        applied = conn.execute(select(func.count()).select_from(t.ledger_events)).scalar_one()
        dead = conn.execute(select(te.dead_letters.c.message_id,
                                   te.dead_letters.c.reason)).all()
        assert check_ledger(conn) == []
    engine.dispose()
    assert on_hand == expected  # every valid event applied, none doubled
    assert applied == 41
    assert len(dead) == len(POISON)
    reasons = {m[:6]: r for m, r in dead}
    assert "quantity" in reasons["p-int3"] and "quantity" in reasons["p-int6"]
    assert "unit_price" in reasons["p-pric"] and "lot_code" in reasons["p-lot"]
    assert "NUL" in reasons["p-nul"] or "nul" in reasons["p-nul"].lower()
    assert "event_id" in reasons["eeeeee"] and "purchase order 987654" in reasons["p-po"]
    assert "would not fit" in reasons["p-sum"]
