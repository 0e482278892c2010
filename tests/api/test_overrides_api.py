"""Planner overrides through the API: set, list, remove; bad ones refused, nothing stored."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.api.auth import create_key
from stockpilot.config import Settings
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import reading
from stockpilot.usecases.actor import SYSTEM
from stockpilot.usecases.overrides import list_overrides


def client(engine, tmp_path: Path) -> tuple[TestClient, dict, dict]:
    with engine.begin() as conn:
        upsert_locations(conn, [{"location": "W"}, {"location": "S"}])
        upsert_skus(conn, [{"sku": "A", "name": "A"}])
    app = create_app(engine, HistoryStore(tmp_path / "history"), tmp_path, Settings())
    planner = {"X-API-Key": create_key(engine, "p", "planner")}
    shop = {"X-API-Key": create_key(engine, "s", "planner", ["S"])}
    return TestClient(app), planner, shop


def test_set_list_remove(sqlite_engine, tmp_path):
    c, planner, _ = client(sqlite_engine, tmp_path)
    r = c.post("/overrides", headers=planner, json={
        "sku": "A", "kind": "forecast_factor", "value": 1.5, "start": "2024-06-01",
        "end": "2024-06-10", "note": "promo"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["location"] == "*" and made["author"].startswith("api key ")
    r = c.post("/overrides", headers=planner, json={"sku": "A", "location": "W",
                                                     "kind": "service_level", "value": 0.99,
                                                     "author": "ann"})
    assert r.status_code == 201
    listed = c.get("/overrides?sku=A", headers=planner).json()
    assert [(o["kind"], o["location"], o["active"]) for o in listed] == [
        ("forecast_factor", "*", True), ("service_level", "W", True)]
    assert c.delete(f"/overrides/{made['id']}", headers=planner).status_code == 204
    assert [o["kind"] for o in c.get("/overrides", headers=planner).json()] == ["service_level"]
    assert c.delete(f"/overrides/{made['id']}", headers=planner).status_code == 404


def test_bad_overrides_are_refused_and_nothing_is_stored(sqlite_engine, tmp_path):
    c, planner, shop = client(sqlite_engine, tmp_path)
    for body, status, words in [
        ({"sku": "ZZ", "kind": "min", "value": 3}, 404, "ZZ"),
        ({"sku": "A", "location": "NOWHERE", "kind": "min", "value": 3}, 404, "NOWHERE"),
        ({"sku": "A", "kind": "service_level", "value": 1.2}, 422, "SKU 'A' at '*'"),
        ({"sku": "A", "kind": "forecast_units", "value": 50}, 422, "date range"),
        ({"sku": "A", "kind": "guess", "value": 1}, 422, "kind"),
    ]:
        r = c.post("/overrides", headers=planner, json=body)
        assert r.status_code == status and words in r.text, (body, r.text)
    # a key limited to S may not set one for every location, nor at W
    assert c.post("/overrides", headers=shop, json={"sku": "A", "kind": "min",
                                                    "value": 1}).status_code == 404
    assert c.post("/overrides", headers=shop, json={"sku": "A", "location": "W",
                                                    "kind": "min", "value": 1}).status_code == 404
    with reading(sqlite_engine) as uow:
        assert list_overrides(uow, SYSTEM).is_empty()
