"""Order lines and purchase orders over HTTP (issue 14), on SQLite and PostgreSQL: edit,
approve a selection, details with cost/currency/expected date/approver, e-mail to a local SMTP
server, lot-tracked receipts, over-receipt guard, and the audit trail."""

from __future__ import annotations

import polars as pl
import pytest
from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.api.auth import create_key
from stockpilot.config import PurchasingSettings, Settings
from stockpilot.ledger.catalogue import (
    upsert_locations,
    upsert_skus,
    upsert_supplier_items,
    upsert_suppliers,
)
from stockpilot.store.history import HistoryStore


@pytest.fixture
def api(engine, tmp_path, smtp):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "Apple"},
                           {"sku": "L", "name": "Lot item", "lot_tracked": True}])
        upsert_locations(conn, [{"location": "W"}, {"location": "S"}])
        upsert_suppliers(conn, [{"supplier": "SUP", "email": "sup@example.test"}])
        upsert_supplier_items(conn, [{"supplier": "SUP", "sku": s, "lead_time_days": 4,
                                      "unit_cost": 1.25} for s in ("A", "L")])
    history = HistoryStore(tmp_path / "h")
    history.write("plans", "latest", pl.DataFrame([
        {"unique_id": f"{s}@{loc}", "sku": s, "location": loc, "supplier": "SUP",
         "order_qty": 10, "order_value": 12.5, "klass": "AX", "reason": "r"}
        for s in ("A", "L") for loc in ("W", "S")]))
    settings = Settings(rate_limit_per_second=0, purchasing=PurchasingSettings(
        currency="GBP", smtp_host="127.0.0.1", smtp_port=smtp[0]))
    keys = {"op": create_key(engine, "op", "operator"),
            "shop": create_key(engine, "shop", "operator", ["S"])}
    return TestClient(create_app(engine, history, settings=settings)), keys, smtp[1]


def test_edit_approve_send_receive_audit(api):
    c, keys, box = api
    h = {"X-API-Key": keys["op"]}
    assert c.put("/order-lines/A/W", json={"quantity": 14, "note": "promo"},
                 headers=h).status_code == 200
    assert c.put("/order-lines/A/W", json={"quantity": "two"}, headers=h).status_code == 422
    r = c.post("/order-lines/approve", headers=h,
               json={"lines": [{"sku": "A", "location": "W"}, {"sku": "L", "location": "W"}]})
    assert r.status_code == 200, r.text
    (po_id,) = r.json()["created"]
    d = c.get(f"/purchase-orders/{po_id}/details", headers=h).json()
    assert (d["label"], d["currency"], d["approved_by"]) == ("draft", "GBP", "key 1")
    assert d["expected_at"] is not None and d["total_value"] == (14 + 10) * 1.25
    assert [(x["sku"], x["quantity"], x["unit_cost"]) for x in d["lines"]] == [
        ("A", 14, 1.25), ("L", 10, 1.25)]
    sent = c.post(f"/purchase-orders/{po_id}/send", json={"how": "email"}, headers=h).json()
    assert sent["label"] == "sent" and box[0]["To"] == "sup@example.test"
    no_lot = c.post(f"/purchase-orders/{po_id}/receipts", headers=h, json={
        "receipt_id": "d1", "lines": [{"line_no": 2, "quantity": 10}]})
    assert no_lot.status_code == 422 and "lot" in no_lot.json()["detail"]
    over = c.post(f"/purchase-orders/{po_id}/receipts", headers=h, json={
        "receipt_id": "d1", "lines": [{"line_no": 1, "quantity": 20}]})
    assert over.status_code == 409 and "A@W" in over.json()["detail"]
    got = c.post(f"/purchase-orders/{po_id}/receipts", headers=h, json={
        "receipt_id": "d1", "lines": [{"line_no": 1, "quantity": 15},
                                      {"line_no": 2, "quantity": 6, "lot_code": "LX",
                                       "expiry": "2030-05-01"}]}).json()
    assert got["label"] == "partly received"
    assert [x["received"] for x in got["lines"]] == [15, 6]
    lots = c.get("/lots", headers=h).json()["items"]
    assert [(x["lot_code"], x["on_hand"]) for x in lots] == [("LX", 6)]
    trail = c.get("/audit", params={"po_id": po_id}, headers=h).json()["items"]
    assert [x["action"] for x in trail] == ["po.received", "po.sent", "po.approved"]
    edits = c.get("/audit", params={"sku": "A", "location": "W"}, headers=h).json()["items"]
    assert edits[-1]["action"] == "suggestion.quantity" and edits[-1]["actor"] == "key 1"
    assert edits[-1]["details"]["note"] == "promo"


def test_a_limited_key_sees_its_lines_and_orders_only(api):
    c, keys, _ = api
    op, shop = {"X-API-Key": keys["op"]}, {"X-API-Key": keys["shop"]}
    (po_id,) = c.post("/order-lines/approve", headers=op,
                      json={"lines": [{"sku": "A", "location": "W"}]}).json()["created"]
    lines = c.get("/order-lines", headers=shop).json()["items"]
    assert {x["location"] for x in lines} == {"S"}
    assert c.get(f"/purchase-orders/{po_id}/details", headers=shop).status_code == 404
    assert c.get(f"/purchase-orders/{po_id}/document.pdf", headers=shop).status_code == 404
    assert c.get("/audit", params={"po_id": po_id}, headers=shop).json()["total"] == 0
    assert c.put("/order-lines/A/W", json={"quantity": 3}, headers=shop).status_code == 404
