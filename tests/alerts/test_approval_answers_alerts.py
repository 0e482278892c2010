"""Approving a purchase order resolves or changes the alerts it answers (issue 13, item 7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import select

from stockpilot.alerts.service import findings, raise_alerts
from stockpilot.domain.commands import ReceiveStock
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
from stockpilot.store.uow import transact
from stockpilot.usecases.alert_refresh import refresh_after_approval

TODAY = datetime.now(UTC).date()


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


def world(engine, root):
    """A@W: 12 available, 2/day forecast, reorder point 40, supplier lead time 10 days."""
    with engine.begin() as conn:
        upsert_locations(conn, [{"location": "W"}])
        upsert_skus(conn, [{"sku": "A", "name": "A"}])
        upsert_suppliers(conn, [{"supplier": "SUP"}])
        upsert_supplier_items(conn, [{"supplier": "SUP", "sku": "A", "lead_time_days": 10}])
    transact(engine, apply_events, [ReceiveStock(event_id="r", sku="A", location="W", quantity=12,
                                       occurred_at=datetime.now(UTC) - timedelta(days=1))])
    history = HistoryStore(root / "history")
    history.write("forecasts", "latest", pl.DataFrame({
        "unique_id": "A@W", "ds": [TODAY + timedelta(days=i) for i in range(28)],
        "mean": 2.0}))
    plan = pl.DataFrame({"unique_id": ["A@W"], "supplier": ["SUP"], "reorder_point": [40],
                         "lead_time_days": [10], "order_qty": [100]})
    history.write("plans", "latest", plan)
    return history, plan


def open_alerts(engine) -> dict[str, str]:
    a = te.alerts.c
    with engine.connect() as conn:
        return dict(conn.execute(select(a.rule, a.message).where(
            a.status.in_(["open", "acked"]))).all())


def test_approval_resolves_low_stock_and_updates_a_stockout_it_is_too_late_for(
        sqlite_engine, tmp_path):
    history, plan = world(sqlite_engine, tmp_path)
    raise_alerts(sqlite_engine, findings(sqlite_engine, history, today=TODAY))
    before = open_alerts(sqlite_engine)
    assert set(before) == {"low_stock", "projected_stockout"}
    assert "nothing on order" in before["projected_stockout"]
    ids = approve(sqlite_engine, plan, as_of=TODAY)
    got = refresh_after_approval(sqlite_engine, history, ids)
    after = open_alerts(sqlite_engine)
    assert got["resolved"] == 1 and set(after) == {"projected_stockout"}
    # the order arrives with the supplier's 10 days: day 11, after the day-7 stockout
    expected = TODAY + timedelta(days=10)
    assert f"next arrival 100 on day 11 ({expected}): too late" in after["projected_stockout"]


def test_an_order_arriving_in_time_resolves_the_stockout(sqlite_engine, tmp_path):
    history, _ = world(sqlite_engine, tmp_path)
    raise_alerts(sqlite_engine, findings(sqlite_engine, history, today=TODAY))
    po, _ = transact(sqlite_engine, create_purchase_order, "SUP", [OrderLine("A", "W", 50)],
                               expected_at=TODAY + timedelta(days=3))
    got = refresh_after_approval(sqlite_engine, history, [po])
    assert got["resolved"] == 2 and open_alerts(sqlite_engine) == {}


