"""The SKU page's unit cost is the one every stock value uses (catalogue, else supplier)."""

from __future__ import annotations

from datetime import UTC, datetime

from stockpilot.domain.commands import ReceiveStock
from stockpilot.ledger.catalogue import (
    upsert_locations,
    upsert_skus,
    upsert_supplier_items,
    upsert_suppliers,
)
from stockpilot.ledger.service import apply_events
from stockpilot.store.uow import reading, transact, writing
from stockpilot.usecases import stock
from stockpilot.usecases.actor import SYSTEM


def test_sku_view_falls_back_to_the_primary_suppliers_cost_like_stock_value(sqlite_engine):
    with writing(sqlite_engine) as uow:
        upsert_skus(uow.conn, [{"sku": "A"}, {"sku": "B", "unit_cost": 4.0}])
        upsert_locations(uow.conn, [{"location": "W"}])
        upsert_suppliers(uow.conn, [{"supplier": "S", "name": "S"}])
        upsert_supplier_items(uow.conn, [{"supplier": "S", "sku": s, "lead_time_days": 7,
                                          "moq": 1, "pack_size": 1, "unit_cost": 2.5}
                                         for s in ("A", "B")])
    transact(sqlite_engine, apply_events, [
        ReceiveStock(event_id=f"r{s}", sku=s, location="W", quantity=10,
                     occurred_at=datetime(2024, 1, 1, tzinfo=UTC)) for s in ("A", "B")])
    with reading(sqlite_engine) as uow:
        costs = stock.unit_costs(uow, SYSTEM)
        a, b = stock.sku_view(uow, SYSTEM, "A"), stock.sku_view(uow, SYSTEM, "B")
    assert (a.unit_cost, b.unit_cost) == (2.5, 4.0)  # supplier's; the catalogue's wins
    assert costs == {"A": 2.5, "B": 4.0}
