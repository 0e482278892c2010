"""Authorization per role for vendor-managed inventory: a supplier key sees and proposes for its
own items only; shop keys cannot use supplier routes and supplier keys no shop route."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.api.auth import create_key
from stockpilot.config import Settings
from stockpilot.domain.commands import ReceiveStock
from stockpilot.ledger.catalogue import (
    upsert_locations,
    upsert_skus,
    upsert_supplier_items,
    upsert_suppliers,
)
from stockpilot.ledger.service import apply_events
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import transact, writing
from stockpilot.usecases.actor import SYSTEM
from stockpilot.usecases.vmi import set_bounds
from stockpilot.usecases.vmi_auth import create_supplier_key


@pytest.fixture
def world(engine, tmp_path: Path):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": s, "name": s} for s in ("A", "Z")])
        upsert_locations(conn, [{"location": "W"}])
        upsert_suppliers(conn, [{"supplier": "ACME"}, {"supplier": "ZED"}])
        upsert_supplier_items(conn, [{"supplier": "ACME", "sku": "A", "lead_time_days": 3},
                                     {"supplier": "ZED", "sku": "Z", "lead_time_days": 3}])
    transact(engine, apply_events,
             [ReceiveStock(event_id=f"r-{s}", sku=s, location="W", quantity=20,
                           occurred_at=datetime(2024, 1, 1, tzinfo=UTC))
              for s in ("A", "Z")])
    history = HistoryStore(tmp_path / "history")
    history.write("plans", "latest", pl.DataFrame({"unique_id": ["A@W", "Z@W"],
                                                   "order_up_to": [50, 60]}))
    with writing(engine) as uow:
        set_bounds(uow, SYSTEM, "ACME", "A", "W", 10, 40)
        supplier_keys = {s.lower(): create_supplier_key(uow, SYSTEM, s, "edi")
                         for s in ("ACME", "ZED")}
    app = create_app(engine, history, tmp_path, Settings(rate_limit_per_second=0))
    keys = {**supplier_keys,
            "planner": create_key(engine, "p", "planner"),
            "viewer": create_key(engine, "v", "viewer")}
    return TestClient(app), {k: {"X-API-Key": v} for k, v in keys.items()}


def test_supplier_sees_only_its_items(world):
    c, h = world
    for path in ("/supplier/stock", "/supplier/plan"):
        acme = c.get(path, headers=h["acme"]).json()
        zed = c.get(path, headers=h["zed"]).json()
        assert all("A" in str(r.get("sku", r.get("unique_id"))) for r in acme) and acme
        assert all("Z" in str(r.get("sku", r.get("unique_id"))) for r in zed) and zed
        assert "Z" not in str(acme) and "'A" not in str(zed)


def test_supplier_cannot_touch_another_suppliers_item(world):
    c, h = world
    res = c.post("/supplier/asns", json={"lines": [{"sku": "Z", "location": "W",
                                                    "quantity": 5}]}, headers=h["acme"])
    assert res.status_code == 404 and "no such SKU" in res.json()["detail"]
    assert c.get("/supplier/asns", headers=h["zed"]).json() == []


def test_keys_stay_on_their_side(world):
    c, h = world
    for who in ("planner", "viewer"):
        assert c.get("/supplier/stock", headers=h[who]).status_code == 401
    for path in ("/stock", "/vmi/asns", "/network/sites", "/skus"):
        assert c.get(path, headers=h["acme"]).status_code == 401, path
    assert c.get("/vmi/asns", headers=h["viewer"]).status_code == 403


def test_auto_approval_shop_decision_and_audit(world):
    c, h = world
    within = c.post("/supplier/asns", json={"lines": [{"sku": "A", "location": "W",
                                                       "quantity": 15}]},
                    headers={**h["acme"], "Idempotency-Key": "asn-1"})
    assert within.status_code == 201
    got = within.json()
    assert got["status"] == "approved" and got["auto_approved"] and got["po_id"]
    again = c.post("/supplier/asns", json={"lines": [{"sku": "A", "location": "W",
                                                      "quantity": 15}]},
                   headers={**h["acme"], "Idempotency-Key": "asn-1"})
    assert again.json() == got  # replayed, not a second PO
    over = c.post("/supplier/asns", json={"lines": [{"sku": "A", "location": "W",
                                                     "quantity": 30}]}, headers=h["acme"])
    assert over.json()["status"] == "pending"
    pending = c.get("/vmi/asns", params={"status": "pending"}, headers=h["planner"]).json()
    assert [a["id"] for a in pending] == [over.json()["asn_id"]]
    ok = c.post(f"/vmi/asns/{over.json()['asn_id']}/approve", headers=h["planner"])
    assert ok.status_code == 200 and ok.json()["po_id"]
    assert c.post(f"/vmi/asns/{over.json()['asn_id']}/reject",
                  headers=h["planner"]).status_code == 400
    trail = c.get("/vmi/audit", headers=h["planner"]).json()
    assert [r["action"] for r in trail] == ["bounds_set", "asn_proposed", "asn_auto_approved",
                                            "asn_proposed", "asn_approved"]
    assert c.get("/supplier/asns", headers=h["acme"]).json()[0]["status"] == "approved"
