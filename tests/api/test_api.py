"""The REST API on SQLite and PostgreSQL: keys, roles, location scope, problems, events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.api.auth import create_key
from stockpilot.domain.commands import ReceiveStock
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import transact

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def api(engine, tmp_path):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "a"}])
        upsert_locations(conn, [{"location": "W"}, {"location": "S"}])
    transact(engine, apply_events,
             [ReceiveStock(event_id=f"r-{loc}", sku="A", location=loc, quantity=5,
                           occurred_at=NOW) for loc in ("W", "S")])
    keys = {role: create_key(engine, role, role) for role in ("viewer", "operator")}
    keys["scoped"] = create_key(engine, "shop", "operator", ["S"])
    return TestClient(create_app(engine, HistoryStore(tmp_path / "h"))), keys


def test_every_route_needs_a_key(api):
    client, _ = api
    for path in ("/health", "/skus", "/stock", "/stock/A", "/forecasts/A"):
        r = client.get(path)
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert client.get("/stock", headers={"X-API-Key": "sp_wrong"}).status_code == 401


def test_roles_and_location_scope(api):
    client, keys = api
    viewer = {"Authorization": f"Bearer {keys['viewer']}"}
    scoped = {"X-API-Key": keys["scoped"]}
    assert {p["location"] for p in client.get("/stock/A", headers=viewer).json()} == {"S", "W"}
    assert {p["location"] for p in client.get("/stock/A", headers=scoped).json()} == {"S"}
    assert client.get("/stock", params={"location": "W"}, headers=scoped).json()["total"] == 0
    event = {"v": 1, "kind": "sale", "event_id": "s1", "sku": "A", "location": "W",
             "quantity": 1, "occurred_at": "2024-06-02T10:00:00+00:00"}
    assert client.post("/events", json={"events": [event]}, headers=viewer).status_code == 403
    out = client.post("/events", json={"events": [event]}, headers=scoped).json()
    assert out["refused_out_of_scope"] == ["s1"] and out["applied"] == 0
    ok = client.post("/events", json={"events": [event]},
                     headers={"X-API-Key": keys["operator"]}).json()
    assert ok["applied"] == 1
    again = client.post("/events", json={"events": [event]},
                        headers={"X-API-Key": keys["operator"]}).json()
    assert again["duplicate"] == 1


def test_problems_for_bad_input(api):
    client, keys = api
    h = {"X-API-Key": keys["viewer"]}
    r = client.get("/skus", params={"limit": 10_000}, headers=h)
    assert r.status_code == 422 and r.json()["title"] == "Invalid request"
    assert client.get("/stock/NOPE", headers=h).status_code == 404
    r = client.post("/events", json={"events": [], "extra": 1},
                    headers={"X-API-Key": keys["operator"]})
    assert r.status_code == 422


def test_openapi_schema_is_committed(api):
    client, _ = api
    live = client.get("/openapi.json").json()
    assert OPENAPI.exists(), "run: python -m stockpilot.api.openapi > docs/openapi.json"
    assert live == json.loads(OPENAPI.read_text()), "API changed: regenerate docs/openapi.json"


def test_idempotency_key_replays_and_refuses_other_bodies(api):
    client, keys = api
    h = {"X-API-Key": keys["operator"], "Idempotency-Key": "batch-42"}
    event = {"v": 1, "kind": "receipt", "event_id": "r9", "sku": "A", "location": "W",
             "quantity": 3, "occurred_at": "2024-06-02T10:00:00+00:00"}
    first = client.post("/events", json={"events": [event]}, headers=h)
    again = client.post("/events", json={"events": [event]}, headers=h)
    assert first.json() == again.json() == {"applied": 1, "duplicate": 0, "dead": 0,
                                            "refused_out_of_scope": []}
    other = client.post("/events", json={"events": [{**event, "quantity": 4}]}, headers=h)
    assert other.status_code == 422 and other.json()["title"] == "Idempotency-Key reused"
    stock = client.get("/stock/A", headers={"X-API-Key": keys["viewer"]}).json()
    assert {p["location"]: p["on_hand"] for p in stock}["W"] == 8
