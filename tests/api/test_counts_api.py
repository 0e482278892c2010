"""Cycle counting over HTTP: list → session → scan (recount) → approve → history, both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.api.auth import create_key
from stockpilot.config import CountingSettings, Settings
from stockpilot.domain.commands import ReceiveStock, RecordSale
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import transact


@pytest.fixture
def api(engine, tmp_path):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "unit_cost": 4}, {"sku": "B", "unit_cost": 1}])
        upsert_locations(conn, [{"location": "S"}, {"location": "W"}])
    t0 = datetime.now(UTC) - timedelta(days=30)
    transact(engine, apply_events, [ReceiveStock(event_id=f"r{s}{loc}", sku=s, location=loc,
                                       quantity=50, occurred_at=t0)
                          for s in "AB" for loc in "SW"])
    settings = Settings(counting=CountingSettings(tolerance_units=1, tolerance_pct=0))
    client = TestClient(create_app(engine, HistoryStore(tmp_path / "h"), settings=settings))
    keys = {name: {"X-API-Key": create_key(engine, name, role, locs)} for name, role, locs in (
        ("planner", "planner", None), ("operator", "operator", ["S"]),
        ("viewer", "viewer", None), ("w", "operator", ["W"]))}
    return client, keys, engine


def test_count_flow_over_http(api):
    client, h, engine = api
    listed = client.get("/counts/list?location=S", headers=h["planner"]).json()
    assert {r["sku"] for r in listed} == {"A", "B"} and listed[0]["rank"] == 1
    assert listed[0]["sku"] == "A"  # same age, higher value
    r = client.post("/counts/sessions", json={"location": "S", "limit": 1},
                    headers=h["planner"])
    assert r.status_code == 201, r.text
    sid, lines = r.json()["id"], r.json()["lines"]
    assert [(x["sku"], x["frozen_on_hand"], x["status"]) for x in lines] == [("A", 50,
                                                                            "pending")]
    transact(engine, apply_events, [RecordSale(event_id="mid", sku="A", location="S", quantity=2,
                                     occurred_at=datetime.now(UTC))])
    scan = f"/counts/sessions/{sid}/scans"
    first = client.post(scan, json={"code": "A", "quantity": 45}, headers=h["operator"]).json()
    assert (first["book_on_hand"], first["variance"], first["recount"]) == (48, -3, True)
    assert client.post(scan, json={"code": "A", "quantity": 1},
                       headers=h["w"]).status_code == 404  # another location's session
    assert client.post(scan, json={"code": "A", "quantity": -1},
                       headers=h["operator"]).status_code == 422
    again = client.post(scan, json={"code": "A", "quantity": 46}, headers=h["operator"]).json()
    assert again["status"] == "counted" and again["variance"] == -2
    assert client.post(f"/counts/sessions/{sid}/approve", json={},
                       headers=h["viewer"]).status_code == 403
    done = client.post(f"/counts/sessions/{sid}/approve", json={}, headers=h["planner"])
    assert done.status_code == 200, done.text
    assert done.json() == [{"sku": "A", "variance": -2, "event_id": f"count:{sid}:A"}]
    stock = client.get("/stock/A", headers=h["viewer"]).json()
    assert {p["location"]: p["on_hand"] for p in stock}["S"] == 46
    hist = client.get("/counts/history/A", headers=h["viewer"]).json()
    assert [(x["first_counted"], x["counted"], x["variance"], x["variance_value"])
            for x in hist] == [(45, 46, -2, -8.0)]
    session = client.get(f"/counts/sessions/{sid}", headers=h["viewer"]).json()
    assert session["status"] == "closed"
    assert session["lines"][0]["moved_since_start"] == -2
    assert client.get("/counts/history/A", headers=h["w"]).json() == []


def test_errors_are_problems(api):
    client, h, _ = api
    r = client.post("/counts/sessions", json={"location": "nowhere"}, headers=h["planner"])
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    sid = client.post("/counts/sessions", json={"location": "S", "skus": ["B"]},
                      headers=h["planner"]).json()["id"]
    again = client.post("/counts/sessions", json={"location": "S"}, headers=h["planner"])
    assert again.status_code == 409 and "already open" in again.json()["detail"]
    r = client.post(f"/counts/sessions/{sid}/approve", json={"skus": ["B"]},
                    headers=h["planner"])
    assert r.status_code == 409 and "pending" in r.json()["detail"]
    r = client.post(f"/counts/sessions/{sid}/scans", json={"code": "zzz", "quantity": 1},
                    headers=h["operator"])
    assert r.status_code == 404 and "zzz" in r.json()["detail"]
    assert client.post("/counts/barcodes", json={"barcodes": {"123": "B"}},
                       headers=h["planner"]).json() == {"registered": 1}
    r = client.post(f"/counts/sessions/{sid}/scans", json={"code": "123", "quantity": 50},
                    headers=h["operator"])
    assert r.json()["sku"] == "B" and r.json()["status"] == "counted"
