"""Editable suggestions and the purchase-order lifecycle (issue 14), on SQLite and PostgreSQL.

Edits change what is approved; approval fills unit cost, currency, expected date and approver
from the supplier terms; receipts (partial, over within tolerance, lots) move on hand, on
order and the learned lead times; every step is in the audit trail.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import select

from stockpilot.errors import NotFound, StockpilotError
from stockpilot.ledger.catalogue import (
    upsert_locations,
    upsert_skus,
    upsert_supplier_items,
    upsert_suppliers,
)
from stockpilot.ledger.invariants import check_ledger
from stockpilot.store import schema as t
from stockpilot.store.artifacts import PlanRun
from stockpilot.store.uow import reading, writing
from stockpilot.usecases import audit, orders, suggestions
from stockpilot.usecases.actor import Actor
from stockpilot.usecases.leadtimes import lead_time_report
from stockpilot.usecases.paging import PageRequest

PLANNER = Actor("operator", None, name="pat")
SHOP = Actor("operator", frozenset({"S"}), name="sam")


@pytest.fixture
def shop(engine):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "Red mug", "unit_cost": 2.0},
                           {"sku": "B", "name": "Bowl", "unit_cost": 3.0},
                           {"sku": "C", "name": "Cup", "unit_cost": 1.0, "lot_tracked": True,
                            "shelf_life_days": 90}])
        upsert_locations(conn, [{"location": "S"}, {"location": "W"}])
        upsert_suppliers(conn, [{"supplier": "SUP", "name": "Supplier",
                                 "email": "orders@sup.example"}])
        upsert_supplier_items(conn, [
            {"supplier": "SUP", "sku": "A", "lead_time_days": 7, "unit_cost": 2.25},
            {"supplier": "SUP", "sku": "B", "lead_time_days": 10},
            {"supplier": "SUP", "sku": "C", "lead_time_days": 3, "unit_cost": 0.5}])
    return engine


def _plan() -> PlanRun:
    rows = [{"unique_id": f"{s}@{loc}", "sku": s, "location": loc, "supplier": "SUP",
             "order_qty": q, "order_value": q * 2.0, "klass": "AX", "reason": "why"}
            for s, loc, q in [("A", "S", 20), ("A", "W", 30), ("B", "W", 10), ("C", "W", 0)]]
    return PlanRun("run-1", pl.DataFrame(rows))


def _lines(engine, actor=PLANNER) -> dict[tuple[str, str], int]:
    with reading(engine) as uow:
        df = suggestions.effective_lines(uow, actor, _plan())
    return {(r["sku"], r["location"]): r["order_qty"] for r in df.iter_rows(named=True)}


def test_edits_shape_what_is_approved(shop):
    plan = _plan()
    with writing(shop) as uow:
        suggestions.set_quantity(uow, PLANNER, plan, "A", "W", 36, "pallet of 36")
        suggestions.drop(uow, PLANNER, plan, "A", "S", "slow month")
        suggestions.snooze(uow, PLANNER, "B", "W", date.today() + timedelta(days=5))
        suggestions.order_once(uow, PLANNER, plan, "C", "W", 12, "promo")
    assert _lines(shop) == {("A", "W"): 36, ("C", "W"): 12}
    with writing(shop) as uow:
        done = suggestions.approve(uow, PLANNER, plan, lines=[("A", "W"), ("C", "W")],
                                   currency="GBP")
    (po_id,) = done.created
    with reading(shop) as uow:
        view = orders.order_view(uow, PLANNER, po_id)
        rows, _ = audit.trail(uow, PLANNER, PageRequest(), sku="A", location="W")
    assert [(ln.sku, ln.quantity, ln.unit_cost) for ln in view.lines] == [
        ("A", 36, 2.25), ("C", 12, 0.5)]
    assert view.currency == "GBP" and view.approved_by == "pat" and view.label == "draft"
    assert view.expected_at == datetime.now(UTC).date() + timedelta(days=7)
    assert view.total_value == 36 * 2.25 + 12 * 0.5
    assert [r["action"] for r in rows] == ["suggestion.quantity"]
    assert rows[0]["actor"] == "pat" and rows[0]["details"]["note"] == "pallet of 36"
    # a second approval of the same lines claims nothing new; edits of ordered lines refused
    with writing(shop) as uow:
        again = suggestions.approve(uow, PLANNER, plan, lines=[("A", "W")])
    assert again.created == [] and again.purchase_orders == [po_id]
    with pytest.raises(StockpilotError, match="already on purchase order"), writing(shop) as uow:
        suggestions.set_quantity(uow, PLANNER, plan, "A", "W", 5)
    assert _lines(shop)[("A", "W")] == 36


def test_bad_edits_are_refused_and_write_nothing(shop):
    plan = _plan()
    with pytest.raises(StockpilotError, match="positive integer"), writing(shop) as uow:
        suggestions.set_quantity(uow, PLANNER, plan, "A", "W", 0)
    with pytest.raises(NotFound), writing(shop) as uow:
        suggestions.set_quantity(uow, SHOP, plan, "A", "W", 5)  # not the shop's location
    with pytest.raises(StockpilotError, match="in the past"), writing(shop) as uow:
        suggestions.snooze(uow, PLANNER, "A", "W", date(2000, 1, 1))
    with reading(shop) as uow:
        assert audit.trail(uow, PLANNER, PageRequest())[1] == 0


def test_lifecycle_send_receive_partly_over_and_lots(shop):
    plan = _plan()
    with writing(shop) as uow:
        suggestions.order_once(uow, PLANNER, plan, "C", "W", 10)
        (po_id,) = suggestions.approve(uow, PLANNER, plan, suppliers=["SUP"]).created
        orders.mark_sent(uow, PLANNER, po_id, "orders@sup.example", "email")
    with reading(shop) as uow:
        view = orders.order_view(uow, PLANNER, po_id)
    assert view.label == "sent" and view.sent_to == "orders@sup.example"
    no = {ln.sku + ln.location: ln.line_no for ln in view.lines}
    with pytest.raises(orders.ReceiptRejected), writing(shop) as uow:  # lot needed
        orders.receive(uow, PLANNER, po_id, {no["CW"]: 10}, receipt_id="r0")
    with pytest.raises(orders.OverReceipt, match=r"line \d \(A@W\)"), writing(shop) as uow:
        orders.receive(uow, PLANNER, po_id, {no["AW"]: 34}, receipt_id="r1")
    when = datetime.now(UTC) + timedelta(days=6)
    with writing(shop) as uow:
        _, view = orders.receive(uow, PLANNER, po_id, {no["AW"]: 32, no["CW"]: 10},
                                 receipt_id="r1", occurred_at=when,
                                 lots={no["CW"]: ("L9", date(2030, 1, 1))})
    assert view.label == "partly received"
    with writing(shop) as uow:  # the same delivery posted again changes nothing
        _, again = orders.receive(uow, PLANNER, po_id, {no["AW"]: 32, no["CW"]: 10},
                                  receipt_id="r1", occurred_at=when,
                                  lots={no["CW"]: ("L9", date(2030, 1, 1))})
    assert [ln.received for ln in again.lines] == [ln.received for ln in view.lines]
    s = t.stock.c
    with shop.connect() as conn:
        assert check_ledger(conn) == []
        pos = dict(((r.sku, r.location), (r.on_hand, r.on_order)) for r in conn.execute(
            select(s.sku, s.location, s.on_hand, s.on_order)))
        lot = conn.execute(select(t.lots.c.lot_code, t.lots.c.on_hand)).all()
    assert pos[("A", "W")] == (32, 0) and pos[("A", "S")] == (0, 20)
    assert pos[("B", "W")] == (0, 10) and lot == [("L9", 10)]
    with reading(shop) as uow:
        report = lead_time_report(uow, "SUP").row(0, named=True)
    assert report["n_receipts"] >= 1 and report["measured_mean_days"] == pytest.approx(6, abs=1)
    with writing(shop) as uow:
        view = orders.cancel(uow, PLANNER, po_id, "rest never came")
    with shop.connect() as conn:
        assert check_ledger(conn) == []
        assert conn.execute(select(s.on_order).where(s.sku == "A", s.location == "S")
                            ).scalar() == 0
    with reading(shop) as uow:
        actions = [r["action"] for r in audit.trail(uow, PLANNER, PageRequest(),
                                                    po_id=po_id)[0]]
    assert view.label == "cancelled"
    assert actions == ["po.cancelled", "po.received", "po.received", "po.sent", "po.approved"]


def test_a_location_limited_user_sees_only_its_lines_and_orders(shop):
    plan = _plan()
    with writing(shop) as uow:
        (everyone,) = suggestions.approve(uow, PLANNER, plan, lines=[("A", "S"), ("A", "W")]
                                          ).created
    assert set(_lines(shop, SHOP)) == {("A", "S")}
    with reading(shop) as uow:
        assert orders.order_list(uow, SHOP, PageRequest())[0] == []
        with pytest.raises(NotFound):
            orders.order_view(uow, SHOP, everyone)
        assert audit.trail(uow, SHOP, PageRequest(), po_id=everyone)[1] == 0
        assert orders.order_list(uow, PLANNER, PageRequest())[1] == 1
