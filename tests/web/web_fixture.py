"""A small demo-like workspace for the dashboard: two SKUs, two locations, one supplier,
a ledger with receipts, sales and a lot, daily demand, a forecast with quantiles, a plan with
reasons, alerts, a saved simulation and users of every role (one limited to location S)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from fastapi.testclient import TestClient

from stockpilot.alerts.rules import Finding
from stockpilot.alerts.service import raise_alerts
from stockpilot.api.app import create_app
from stockpilot.domain.commands import ReceiveStock, RecordSale
from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.ledger.catalogue import (
    upsert_locations,
    upsert_skus,
    upsert_supplier_items,
    upsert_suppliers,
)
from stockpilot.ledger.service import apply_events
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import transact, writing
from stockpilot.usecases import simulations
from stockpilot.usecases.actor import SYSTEM
from stockpilot.web.users import create_user

AS_OF = date(2024, 6, 30)
PASSWORD = "correct horse battery"
SERIES = [("A", "W"), ("A", "S"), ("B", "W")]


@dataclass
class WebWorkspace:
    app: object
    engine: object
    history: HistoryStore
    root: Path


def _ledger(engine) -> None:
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "Red mug", "unit_cost": 2.5, "price": 6},
                           {"sku": "B", "name": "Blue <b>bowl</b>", "unit_cost": 4, "price": 9,
                            "lot_tracked": True, "shelf_life_days": 90}])
        upsert_locations(conn, [{"location": "W"}, {"location": "S"}])
        upsert_suppliers(conn, [{"supplier": "SUP", "name": "Supplier"}])
        upsert_supplier_items(conn, [{"supplier": "SUP", "sku": s, "lead_time_days": 7,
                                      "moq": 1, "pack_size": 1} for s in ("A", "B")])
    t0 = datetime(2024, 6, 20, 9, tzinfo=UTC)
    events = [ReceiveStock(event_id=f"r-A-{loc}", sku="A", location=loc, quantity=40,
                           occurred_at=t0) for loc in ("W", "S")]
    events.append(ReceiveStock(event_id="r-B-W", sku="B", location="W", quantity=30,
                               occurred_at=t0, lot_code="L1", expiry=date(2024, 7, 10)))
    events += [RecordSale(event_id=f"s-{i}", sku="A", location="W", quantity=3,
                          occurred_at=t0 + timedelta(days=i)) for i in range(1, 9)]
    transact(engine, apply_events, events)


def _history(history: HistoryStore) -> None:
    rng = np.random.default_rng(7)
    days = [AS_OF - timedelta(days=i) for i in range(89, -1, -1)]
    daily = pl.DataFrame([{"sku": s, "location": loc, "date": d, "units": int(rng.poisson(4))}
                          for s, loc in SERIES for d in days])
    history.write_daily("import", daily)
    history.write("stockouts", "ledger", pl.DataFrame(
        {"sku": ["A"], "location": ["W"], "date": [AS_OF - timedelta(days=3)]}))
    rows = []
    for s, loc in SERIES:
        for h in range(1, 29):
            row = {"unique_id": f"{s}@{loc}", "sku": s, "location": loc,
                   "ds": AS_OF + timedelta(days=h), "mean": 4.0}
            row.update({qcol(q): float(np.round(4 + 3 * (q - 0.5) * (1 + h / 10), 3))
                        for q in QUANTILES})
            rows.append(row)
    history.write("forecasts", "latest", pl.DataFrame(rows))
    history.write("plans", "latest", pl.DataFrame([
        {"unique_id": f"{s}@{loc}", "supplier": "SUP", "klass": "AX", "service_level": 0.95,
         "protection_days": 14, "order_up_to": 80, "reorder_point": 50,
         "order_qty": 60 if (s, loc) != ("B", "W") else 0, "order_value": 150.0,
         "reason": f"{s}@{loc}: P50 demand over lead time + review (14 d) 56; order-up-to 80"}
        for s, loc in SERIES]))


def _simulation(engine) -> None:
    """Stored one way, as the CLI and the API store simulations (SQL rows)."""
    with writing(engine) as uow:
        simulations.store(uow, SYSTEM, "fixture", {}, [
            {"policy": p, "knob": k, "fill_rate": f, "cycle_service_level": f - 0.05,
             "avg_on_hand_per_sku": inv, "lost_units": 10.0, "orders_placed": 5.0}
            for p, k, f, inv in [("ours", 0.9, 0.91, 20.0), ("ours", 0.95, 0.96, 26.0),
                                 ("erp_min_max", 1.5, 0.9, 30.0),
                                 ("erp_min_max", 2.0, 0.95, 38.0)]])


def make_workspace(engine, root: Path) -> WebWorkspace:
    _ledger(engine)
    history = HistoryStore(root / "history")
    _history(history)
    _simulation(engine)
    raise_alerts(engine, [Finding("low_stock", "A", "W", "warning", "available 16 ≤ 50"),
                          Finding("projected_stockout", "A", "S", "critical", "2 days")])
    for role in ("viewer", "planner", "operator", "admin"):
        create_user(engine, role, PASSWORD, role)
    create_user(engine, "shop", PASSWORD, "planner", ["S"])
    return WebWorkspace(create_app(engine, history), engine, history, root)


def client(ws: WebWorkspace) -> TestClient:
    # a loopback server address, as `stockpilot serve` binds by default
    return TestClient(ws.app, base_url="http://127.0.0.1")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(c: TestClient, user: str, password: str = PASSWORD):
    token = csrf_of(c.get("/login").text)
    return c.post("/login", data={"username": user, "password": password,
                                  "csrf_token": token, "next": "/"}, follow_redirects=False)
