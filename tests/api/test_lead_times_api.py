"""Stated vs measured lead times through the API and the dashboard's orders page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.api.auth import create_key
from stockpilot.config import Settings
from stockpilot.ledger.catalogue import (
    upsert_locations,
    upsert_skus,
    upsert_supplier_items,
    upsert_suppliers,
)
from stockpilot.ledger.purchasing import OrderLine, create_purchase_order, receive_purchase_order
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import reading, transact
from stockpilot.usecases.leadtimes import lead_time_report


def seed_terms(engine) -> None:
    with engine.begin() as conn:
        upsert_locations(conn, [{"location": "W"}])
        upsert_skus(conn, [{"sku": s, "name": s} for s in ("a", "b", "c")])
        upsert_suppliers(conn, [{"supplier": "S"}, {"supplier": "T"}])
        upsert_supplier_items(conn, [
            {"supplier": "S", "sku": "a", "lead_time_days": 14},
            {"supplier": "S", "sku": "b", "lead_time_days": 14},
            {"supplier": "T", "sku": "c", "lead_time_days": 10}])


def two_lines_received_the_same_day(engine) -> None:
    """The issue's case: one PO of S, two lines, both received on the day it was placed."""
    po, _ = transact(engine, create_purchase_order,
                     "S", [OrderLine("a", "W", 3), OrderLine("b", "W", 4)])
    transact(engine, receive_purchase_order, po, occurred_at=datetime.now(UTC))


def five_receipts_of_t(engine, days: int = 20) -> None:
    for n in range(5):
        po, _ = transact(engine, create_purchase_order,
                         "T", [OrderLine("c", "W", 1)], reference=f"t{n}")
        transact(engine, receive_purchase_order,
                 po, occurred_at=datetime.now(UTC) + timedelta(days=days))


def test_report_keeps_stated_until_enough_receipts(sqlite_engine):
    seed_terms(sqlite_engine)
    two_lines_received_the_same_day(sqlite_engine)
    five_receipts_of_t(sqlite_engine)
    with reading(sqlite_engine) as uow:
        rows = {r["supplier"]: r for r in lead_time_report(uow).iter_rows(named=True)}
    s, t = rows["S"], rows["T"]
    assert s["n_receipts"] == 1 and not s["used"] and s["planned_mean_days"] == 14
    assert s["measured_mean_days"] == 0
    assert t["n_receipts"] == 5 and t["used"] and t["measured_p90_days"] == 20
    assert t["planned_mean_days"] == 15.0  # half measured 20, half stated 10


def test_api_and_dashboard_show_stated_vs_measured(sqlite_engine, tmp_path: Path):
    seed_terms(sqlite_engine)
    five_receipts_of_t(sqlite_engine)
    app = create_app(sqlite_engine, HistoryStore(tmp_path / "history"), tmp_path, Settings())
    client = TestClient(app)
    key = create_key(sqlite_engine, "v", "viewer")
    got = client.get("/lead-times", headers={"X-API-Key": key})
    assert got.status_code == 200, got.text
    rows = {r["supplier"]: r for r in got.json()}
    assert rows["T"]["measured_mean_days"] == 20 and rows["T"]["used"] is True
    assert rows["S"]["n_receipts"] == 0 and rows["S"]["planned_mean_days"] == 14
    one = client.get("/lead-times?supplier=T", headers={"X-API-Key": key}).json()
    assert [r["supplier"] for r in one] == ["T"]
    assert client.get("/lead-times").status_code == 401
