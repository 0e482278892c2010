"""Multi-location through the database: the issue's double-supply case, end to end.

Before: stores were ordered from the supplier while the DC held 200, and `transfers plan`
read the stale plan, so one store got an approved order of 45 AND a transfer of 45.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import select

from stockpilot.domain.commands import ReceiveStock
from stockpilot.jobs.plan import run_plan
from stockpilot.jobs.transfers import apply_transfers, plan_transfers
from stockpilot.ledger.catalogue import (
    upsert_locations,
    upsert_skus,
    upsert_supplier_items,
    upsert_suppliers,
)
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.service import apply_events
from stockpilot.store import schema as t
from stockpilot.store.history import HistoryStore
from stockpilot.store.schema_plan2 import transfers_in_transit as tt
from stockpilot.store.uow import transact, writing
from stockpilot.usecases.actor import SYSTEM
from stockpilot.usecases.transit import receive

END = date(2024, 5, 31)
ROUTES = {"DC": "supplier", "S1": "dc:DC", "S2": "dc:DC"}


def approve(engine, plan, as_of=None):
    """Approve every due line of ``plan`` as the system (the use case the CLI and API call)."""
    from stockpilot.domain.series import split_unique_id
    from stockpilot.store.artifacts import PlanRun
    from stockpilot.store.uow import writing
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.purchasing import approve_plan

    frame = plan if "sku" in plan.columns else plan.with_columns(split_unique_id())
    with writing(engine) as uow:
        return approve_plan(uow, SYSTEM, PlanRun(f"test-{as_of}", frame)).purchase_orders


@pytest.fixture
def net(sqlite_engine, tmp_path):
    """SKU A sells 3/day at S1 and S2, none at the DC; the DC holds 200, stores nothing."""
    engine, history = sqlite_engine, HistoryStore(tmp_path / "history")
    with engine.begin() as conn:
        upsert_locations(conn, [{"location": x} for x in ("DC", "S1", "S2")])
        upsert_skus(conn, [{"sku": "A", "name": "A", "unit_cost": 2, "price": 5}])
        upsert_suppliers(conn, [{"supplier": "SUP"}])
        upsert_supplier_items(conn, [{"supplier": "SUP", "sku": "A", "lead_time_days": 7,
                                      "moq": 1, "pack_size": 1}])
    transact(engine, apply_events,
             [ReceiveStock(event_id="dc", sku="A", location="DC", quantity=200,
                           occurred_at=datetime(2024, 5, 1, tzinfo=UTC))])
    days = [END - timedelta(days=i) for i in range(120)]
    history.write_daily("import", pl.DataFrame(
        [("A", s, d, 3 + (i % 3) - 1) for s in ("S1", "S2") for i, d in enumerate(days)],
        schema=["sku", "location", "date", "units"], orient="row"))
    ids = ["A@S1", "A@S2"]
    history.write("forecasts", "latest", pl.DataFrame(
        [(u, "A", u[2:], END + timedelta(days=h), 3.0) for u in ids for h in range(1, 29)],
        schema=["unique_id", "sku", "location", "ds", "mean"], orient="row"))
    history.write("forecasts", "cv", pl.DataFrame(
        [(u, END - timedelta(days=28), END - timedelta(days=28 - h), h, 3.0 + (h % 3) - 1, 3.0)
         for u in ids for h in range(1, 29)],
        schema=["unique_id", "cutoff", "ds", "h", "y", "mean"], orient="row"))
    return engine, history


def lines(plan: pl.DataFrame) -> dict[str, dict]:
    return {r["unique_id"]: r for r in plan.iter_rows(named=True)}


def test_stores_get_dc_stock_once_and_the_dc_orders_for_them(net):
    engine, history = net
    plan = lines(run_plan(engine, history, sourcing_routes=ROUTES))
    s1, s2, dc = plan["A@S1"], plan["A@S2"], plan["A@DC"]
    assert s1["order_qty"] == s2["order_qty"] == 0  # nothing from the supplier for stores
    assert s1["transfer_qty"] == s1["order_up_to"] and s1["transfer_from"] == "DC"
    assert "echelon of 2 stores" in dc["reason"]
    # approving orders nothing for the stores
    approve(engine, run_plan(engine, history, sourcing_routes=ROUTES), as_of=END)
    with engine.connect() as conn:
        po_locs = set(conn.execute(select(t.purchase_order_lines.c.location)).scalars())
    assert not po_locs & {"S1", "S2"}
    # the same plan's transfers, on fresh positions; shipping puts them in transit
    sent = plan_transfers(engine, history, "DC", transfer_cost=0.01)
    assert dict(zip(sent["to_location"], sent["qty"], strict=True)) == {
        "S1": s1["transfer_qty"], "S2": s2["transfer_qty"]}
    assert apply_transfers(engine, sent, at=datetime(2024, 6, 1, tzinfo=UTC)).applied == 2
    # in transit counts at the store: neither a second transfer nor a supplier order
    again = lines(run_plan(engine, history, sourcing_routes=ROUTES))
    assert again["A@S1"]["in_transit"] == s1["transfer_qty"]
    assert again["A@S1"]["transfer_qty"] == 0 and again["A@S1"]["order_qty"] == 0
    assert plan_transfers(engine, history, "DC", transfer_cost=0.01).is_empty()
    # received: on hand at the store, no longer in transit, books balance
    with engine.connect() as conn:
        ids = conn.execute(select(tt.c.id)).scalars().all()
    for shipment in ids:
        for _ in range(2):  # once only
            with writing(engine) as uow:
                receive(uow, SYSTEM, shipment)
    with engine.connect() as conn:
        on_hand = dict(conn.execute(select(t.stock.c.location, t.stock.c.on_hand)).all())
        assert check_ledger(conn) == []
    assert on_hand["S1"] == s1["transfer_qty"]
    assert on_hand["DC"] == 200 - s1["transfer_qty"] - s2["transfer_qty"]


def test_an_approved_order_is_not_also_sent_by_transfer(net):
    """Without a network the store orders from the supplier; the transfer plan, reading the
    same plan but fresh positions, does not send what is now on order."""
    engine, history = net
    plan = run_plan(engine, history)
    store = lines(plan)["A@S1"]
    assert store["order_qty"] > 0
    approve(engine, plan.filter(pl.col("unique_id") == "A@S1"), as_of=END)
    sent = plan_transfers(engine, history, "DC", transfer_cost=0.01)
    assert "S1" not in set(sent["to_location"])
    assert "S2" in set(sent["to_location"])  # S2's order was not approved: it still needs


def test_an_override_set_by_a_planner_reaches_the_plan(net):
    from stockpilot.usecases.overrides import OverrideIn, set_override

    engine, history = net
    transact(engine, set_override, OverrideIn(sku="A", kind="order_up_to", value=120, author="ann",
                                              location="S1", note="display"))
    transact(engine, set_override,
             OverrideIn(sku="A", kind="service_level", value=0.99, author="bob"))
    plan = lines(run_plan(engine, history))
    s1, s2 = plan["A@S1"], plan["A@S2"]
    assert s1["order_up_to"] == 120
    assert "overrides: order-up-to fixed at 120 (by ann, display)" in s1["reason"]
    assert s2["service_level"] == 0.99 and "service level 99% (by bob)" in s2["reason"]


def test_the_service_level_matrix_from_the_toml(net):
    engine, history = net
    plan = lines(run_plan(engine, history, service_levels={"AX": 0.8, "AY": 0.8, "AZ": 0.8,
                                                           "BX": 0.8, "BY": 0.8, "BZ": 0.8,
                                                           "CX": 0.8, "CY": 0.8, "CZ": 0.8}))
    assert {r["service_level"] for r in plan.values() if r["klass"] != "--"} == {0.8}
    with pytest.raises(Exception, match=r"\[service_levels\] 'QQ'"):
        run_plan(engine, history, service_levels={"QQ": 0.9})
