"""A small world for the API tests: two locations in a limited key's scope (S, S2), one
outside it (W), an object of every kind on each side, and a key per role × scope."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from stockpilot.api.app import create_app
from stockpilot.api.auth import ROLES, create_key
from stockpilot.config import Settings
from stockpilot.config_limits import LimitSettings
from stockpilot.domain.commands import ReceiveStock, TransferStock
from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.jobs.runs import run_job
from stockpilot.ledger.catalogue import (
    upsert_locations,
    upsert_skus,
    upsert_supplier_items,
    upsert_suppliers,
)
from stockpilot.ledger.purchasing import OrderLine, create_purchase_order
from stockpilot.ledger.service import apply_events
from stockpilot.store import schema_events as te
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import transact, writing
from stockpilot.usecases import simulations
from stockpilot.usecases.actor import SYSTEM, Actor

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2024, 6, 1, tzinfo=UTC)
INSIDE, OUTSIDE = ("S", "S2"), "W"


@dataclass
class World:
    client: TestClient
    engine: object
    workspace: Path
    keys: dict[tuple[str, bool], str]  # (role, scoped) → secret
    ids: dict[str, int] = field(default_factory=dict)

    def h(self, role: str = "admin", scoped: bool = False) -> dict[str, str]:
        return {"X-API-Key": self.keys[(role, scoped)]}


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> Path:
    """The recommender trained once on the vendored sample (a few seconds)."""
    from stockpilot.ingest.online_retail import read_invoices
    from stockpilot.ingest.online_retail_import import split_lines
    from stockpilot.recommend.service import train

    folder = tmp_path_factory.mktemp("rec")
    kept, _, _ = split_lines(read_invoices(ROOT / "data/sample/online_retail_top300.csv.gz"))
    train(kept, datetime(2011, 9, 1), folder)
    return folder


def _frames(history: HistoryStore) -> None:
    rows = []
    for loc in ("S", "W"):
        for d in range(3):
            rows.append({"unique_id": f"A@{loc}", "sku": "A", "location": loc,
                         "ds": date(2024, 6, 2) + timedelta(days=d), "model": "Naive",
                         "mean": 2.0, **{qcol(q): float(q * 4) for q in QUANTILES}})
    history.write("forecasts", "latest", pl.DataFrame(rows))
    plan = pl.DataFrame([
        {"unique_id": f"A@{loc}", "supplier": "ACME", "klass": "AX", "service_level": 0.95,
         "protection_days": 14, "p50": 20, "mean": 20.5, "safety_stock": 8, "order_up_to": 28,
         "on_hand": 1000, "on_order": 0, "reserved": 0, "inventory_position": 5, "need": 23,
         "order_qty": 24, "order_value": 48.0, "reason": "because", "reorder_point": 12}
        for loc in ("S", "W")])
    history.write("plans", "latest", plan)


def seed(engine, ws: Path, model: Path | None) -> dict[str, int]:
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "a", "category": "toys"},
                           {"sku": "B", "name": "b"}, {"sku": "L", "lot_tracked": True}])
        upsert_locations(conn, [{"location": loc} for loc in ("W", "S", "S2")])
        upsert_suppliers(conn, [{"supplier": "ACME", "name": "Acme"}])
        upsert_supplier_items(conn, [{"supplier": "ACME", "sku": s, "lead_time_days": 7,
                                      "moq": 1, "pack_size": 1, "order_cost": 0}
                                     for s in ("A", "B")])
    receipts = [ReceiveStock(event_id=f"r-{s}-{loc}", sku=s, location=loc, quantity=1000,
                             occurred_at=NOW) for s in ("A", "B") for loc in ("W", "S", "S2")]
    receipts += [ReceiveStock(event_id=f"r-L-{loc}", sku="L", location=loc, quantity=50,
                              lot_code=f"LOT-{loc}", expiry=date(2024, 7, 1), occurred_at=NOW)
                 for loc in ("W", "S")]
    transfers = [TransferStock(event_id=f"t-{a}-{b}", sku="A", location=a, to_location=b,
                               quantity=1, occurred_at=NOW) for a, b in (("S", "S2"),
                                                                         ("W", "S"))]
    transact(engine, apply_events, receipts + transfers)
    ids = {name: transact(engine, create_purchase_order, "ACME", [OrderLine("A", loc, 10)])[0]
           for name, loc in (("po_in", "S"), ("po_out", "W"))}
    with engine.begin() as conn:
        for name, loc in (("alert_in", "S"), ("alert_out", "W")):
            ids[name] = conn.execute(insert(te.alerts).values(
                rule="low_stock", sku="A", location=loc, severity="warning", message="low",
                status="open", created_at=NOW, updated_at=NOW)
                .returning(te.alerts.c.id)).scalar_one()
    with writing(engine) as uow:
        ids["simulation"] = simulations.store(uow, SYSTEM, "seed", {"start": "2024-01-01"},
                                             [{"policy": "ours", "fill_rate": 0.9}])
        ids["simulation_in"] = simulations.store(  # over S only: a scoped key's to read
            uow, Actor("planner", frozenset({"S"})), "seed-S", {"start": "2024-01-01"},
            [{"policy": "ours", "fill_rate": 0.8}])
    ids["job"] = run_job(engine, "plan", {"review_days": 7}, lambda: {"planned": 0})
    history = HistoryStore(ws / "history")
    _frames(history)
    (ws / "report").mkdir(parents=True)
    (ws / "report" / "index.html").write_text("<h1>report</h1>")
    # the report generated for the scoped keys' locations (all they may see of reports)
    (ws / "report" / "locations" / "+".join(INSIDE)).mkdir(parents=True)
    (ws / "report" / "locations" / "+".join(INSIDE) / "index.html").write_text("<h1>S</h1>")
    if model is not None:
        shutil.copytree(model, ws / "models" / "recommend")
    return ids


@pytest.fixture
def world(engine, tmp_path, trained_model) -> World:
    ws = tmp_path / "ws"
    ws.mkdir()
    ids = seed(engine, ws, trained_model)
    keys = {(role, scoped): create_key(engine, f"{role}-{scoped}", role,
                                       list(INSIDE) if scoped else None)
            for role in ROLES for scoped in (False, True)}
    # wrong keys are sent on purpose many times: the per-IP failure limit has its own tests
    settings = Settings(rate_limit_per_second=0, default_location="S",
                        limits=LimitSettings(failed_auth_per_minute=0))
    app = create_app(engine, HistoryStore(ws / "history"), ws, settings)
    return World(TestClient(app), engine, ws, keys, ids)
