"""Vendor-managed inventory: a supplier sees and proposes for its own items only; bounds,
approval into purchase orders, and the audit trail (both backends)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
from sqlalchemy import select

from stockpilot.domain.commands import ReceiveStock
from stockpilot.errors import NotFound, StockpilotError
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
from stockpilot.store.uow import reading, transact, writing
from stockpilot.usecases import vmi
from stockpilot.usecases.actor import SYSTEM, Actor, Forbidden
from stockpilot.usecases.vmi import AsnLine
from stockpilot.usecases.vmi_auth import (
    SupplierScope,
    create_supplier_key,
    revoke_supplier_key,
    supplier_of_key,
)

ACME, ZED = SupplierScope("ACME", "key:acme"), SupplierScope("ZED", "key:zed")


def w(engine, fn, *args, **kwargs):
    """``fn`` in a unit of work committed when it returns (as the edges call it)."""
    with writing(engine) as uow:
        return fn(uow, *args, **kwargs)


def r(engine, fn, *args, **kwargs):
    """``fn`` in a read-only unit of work."""
    with reading(engine) as uow:
        return fn(uow, *args, **kwargs)


@pytest.fixture
def shop(engine):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": s, "name": s} for s in ("A", "A2", "Z")])
        upsert_locations(conn, [{"location": "W"}, {"location": "S"}])
        upsert_suppliers(conn, [{"supplier": "ACME"}, {"supplier": "ZED"}])
        upsert_supplier_items(conn, [
            {"supplier": "ACME", "sku": "A", "lead_time_days": 3},
            {"supplier": "ACME", "sku": "A2", "lead_time_days": 3},
            {"supplier": "ZED", "sku": "Z", "lead_time_days": 5}])
    transact(engine, apply_events,
             [ReceiveStock(event_id=f"r-{s}", sku=s, location="W", quantity=20,
                           occurred_at=datetime(2024, 1, 1, tzinfo=UTC))
              for s in ("A", "Z")])
    return engine


def test_a_supplier_sees_only_its_items(shop, tmp_path):
    history = HistoryStore(tmp_path / "h")
    history.write("plans", "latest", pl.DataFrame({"unique_id": ["A@W", "Z@W"],
                                                   "order_up_to": [50, 60]}))
    history.write("forecasts", "latest", pl.DataFrame({
        "unique_id": ["A@W", "A@W", "Z@W"], "ds": [date(2024, 1, 2), date(2024, 1, 3)] * 1
        + [date(2024, 1, 2)], "mean": [1.0, 2.0, 9.0]}))
    assert {r["sku"] for r in r(shop, vmi.supplier_stock, ACME)} == {"A"}
    assert {r["sku"] for r in r(shop, vmi.supplier_stock, ZED)} == {"Z"}
    assert [r["unique_id"] for r in r(shop, vmi.supplier_plan, history, ACME)] == ["A@W"]
    fc = r(shop, vmi.supplier_forecasts, history, ACME)
    assert [(r["unique_id"], r["mean"]) for r in fc] == [("A@W", 3.0)]


def test_another_suppliers_item_does_not_exist_for_them(shop):
    with pytest.raises(NotFound, match="no such SKU 'Z'"):
        w(shop, vmi.propose_asn, ACME, [AsnLine("A", "W", 5), AsnLine("Z", "W", 5)])
    assert r(shop, vmi.list_asns, SYSTEM) == []  # nothing written


def test_within_bounds_is_auto_approved_into_a_purchase_order(shop):
    w(shop, vmi.set_bounds, SYSTEM, "ACME", "A", "W", 10, 40)
    got = w(shop, vmi.propose_asn, ACME, [AsnLine("A", "W", 15)], expected_at=date(2024, 2, 1))
    assert (got.status, got.auto_approved) == ("approved", True) and got.po_id
    assert "position 20 + 15 = 35 within [10, 40]" in got.reasons[0]
    with shop.connect() as conn:
        po = conn.execute(select(t.purchase_orders).where(t.purchase_orders.c.id == got.po_id)
                          ).mappings().one()
        on_order = conn.execute(select(t.stock.c.on_order).where(
            t.stock.c.sku == "A", t.stock.c.location == "W")).scalar_one()
    assert (po["supplier"], po["reference"], on_order) == ("ACME", f"ASN-{got.asn_id}", 15)
    with shop.connect() as conn:
        assert check_ledger(conn) == []  # on_order equals the open PO lines
    # the next one would pass the max: it waits for the shop
    second = w(shop, vmi.propose_asn, ACME, [AsnLine("A", "W", 10)])
    assert second.status == "pending" and "35 + 10 = 45 > max 40" in second.reasons[0]
    w(shop, vmi.set_bounds, SYSTEM, "ACME", "A", "W", 60, 80)
    short = w(shop, vmi.propose_asn, ACME, [AsnLine("A", "W", 5)])
    assert short.status == "pending" and "35 + 5 = 40 < min 60" in short.reasons[0]


def test_the_shop_approves_or_rejects_and_everything_is_audited(shop):
    one = w(shop, vmi.propose_asn, ACME, [AsnLine("A2", "S", 7)])
    assert one.status == "pending" and "no agreed bounds" in one.reasons[0]
    done = w(shop, vmi.decide_asn, SYSTEM, one.asn_id, True, by="planner:ann")
    assert done.status == "approved" and done.po_id
    with pytest.raises(StockpilotError, match="already approved"):
        w(shop, vmi.decide_asn, SYSTEM, one.asn_id, False, by="planner:ann")
    two = w(shop, vmi.propose_asn, ZED, [AsnLine("Z", "W", 3)])
    w(shop, vmi.decide_asn, SYSTEM, two.asn_id, False, by="planner:bob")
    assert [a["status"] for a in r(shop, vmi.list_asns, SYSTEM, "ZED")] == ["rejected"]
    assert [a["id"] for a in r(shop, vmi.list_asns, SYSTEM, "ACME")] == [one.asn_id]
    trail = r(shop, vmi.audit_trail, SYSTEM)
    assert [(r["actor"], r["action"]) for r in trail] == [
        ("key:acme", "asn_proposed"), ("planner:ann", "asn_approved"),
        ("key:zed", "asn_proposed"), ("planner:bob", "asn_rejected")]
    assert all(r["supplier"] == "ZED" for r in r(shop, vmi.audit_trail, SYSTEM, "ZED"))


def test_supplier_keys_resolve_to_their_supplier_until_revoked(shop):
    secret = w(shop, create_supplier_key, SYSTEM, "ACME", "edi")
    assert r(shop, supplier_of_key, secret) == SupplierScope("ACME", "key:edi")
    assert r(shop, supplier_of_key, secret + "x") is None
    with shop.connect() as conn:
        from stockpilot.store import schema_vmi as tv

        key_id = conn.execute(select(tv.supplier_keys.c.id)).scalar_one()
    with pytest.raises(Forbidden):
        w(shop, revoke_supplier_key, Actor("operator", None, name="op"), key_id)
    assert r(shop, supplier_of_key, secret) == SupplierScope("ACME", "key:edi")
    w(shop, revoke_supplier_key, SYSTEM, key_id)
    assert r(shop, supplier_of_key, secret) is None
    with pytest.raises(NotFound):
        w(shop, create_supplier_key, SYSTEM, "NOBODY", "x")


def test_bounds_must_be_ordered_and_for_own_items(shop):
    with pytest.raises(StockpilotError, match="min"):
        w(shop, vmi.set_bounds, SYSTEM, "ACME", "A", "W", 50, 10)
    with pytest.raises(NotFound):
        w(shop, vmi.set_bounds, SYSTEM, "ACME", "Z", "W", 0, 10)


def test_the_shops_side_is_scoped_to_the_actors_locations(shop):
    at_w = w(shop, vmi.propose_asn, ACME, [AsnLine("A", "W", 5)])
    at_s = w(shop, vmi.propose_asn, ACME, [AsnLine("A2", "S", 5)])
    ann = Actor("planner", frozenset({"S"}), name="ann")
    assert [a["id"] for a in r(shop, vmi.list_asns, ann)] == [at_s.asn_id]
    with pytest.raises(NotFound, match=f"no ASN {at_w.asn_id}"):
        w(shop, vmi.decide_asn, ann, at_w.asn_id, True)
    with pytest.raises(NotFound, match="no such location"):
        w(shop, vmi.set_bounds, ann, "ACME", "A", "W", 0, 10)
    with pytest.raises(Forbidden):
        w(shop, vmi.decide_asn, Actor("viewer", None, name="vic"), at_s.asn_id, False)
    done = w(shop, vmi.decide_asn, ann, at_s.asn_id, False)
    assert done.status == "rejected"
    assert [row["status"] for row in r(shop, vmi.list_asns, SYSTEM)] == ["rejected", "pending"]
    trail = r(shop, vmi.audit_trail, ann)
    assert [(row["actor"], row["action"]) for row in trail] == [
        ("key:acme", "asn_proposed"), ("ann", "asn_rejected")]
