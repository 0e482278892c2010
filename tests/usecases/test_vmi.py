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
from stockpilot.store.uow import transact
from stockpilot.usecases import vmi
from stockpilot.usecases.vmi import AsnLine
from stockpilot.usecases.vmi_auth import (
    SupplierScope,
    create_supplier_key,
    revoke_supplier_key,
    supplier_of_key,
)

ACME, ZED = SupplierScope("ACME", "key:acme"), SupplierScope("ZED", "key:zed")


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
    assert {r["sku"] for r in vmi.supplier_stock(shop, ACME)} == {"A"}
    assert {r["sku"] for r in vmi.supplier_stock(shop, ZED)} == {"Z"}
    assert [r["unique_id"] for r in vmi.supplier_plan(shop, history, ACME)] == ["A@W"]
    fc = vmi.supplier_forecasts(shop, history, ACME)
    assert [(r["unique_id"], r["mean"]) for r in fc] == [("A@W", 3.0)]


def test_another_suppliers_item_does_not_exist_for_them(shop):
    with pytest.raises(NotFound, match="no such SKU 'Z'"):
        vmi.propose_asn(shop, ACME, [AsnLine("A", "W", 5), AsnLine("Z", "W", 5)])
    assert vmi.list_asns(shop) == []  # nothing written


def test_within_bounds_is_auto_approved_into_a_purchase_order(shop):
    vmi.set_bounds(shop, "ACME", "A", "W", 10, 40)
    got = vmi.propose_asn(shop, ACME, [AsnLine("A", "W", 15)], expected_at=date(2024, 2, 1))
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
    second = vmi.propose_asn(shop, ACME, [AsnLine("A", "W", 10)])
    assert second.status == "pending" and "35 + 10 = 45 > max 40" in second.reasons[0]
    vmi.set_bounds(shop, "ACME", "A", "W", 60, 80)
    short = vmi.propose_asn(shop, ACME, [AsnLine("A", "W", 5)])
    assert short.status == "pending" and "35 + 5 = 40 < min 60" in short.reasons[0]


def test_the_shop_approves_or_rejects_and_everything_is_audited(shop):
    one = vmi.propose_asn(shop, ACME, [AsnLine("A2", "S", 7)])
    assert one.status == "pending" and "no agreed bounds" in one.reasons[0]
    done = vmi.decide_asn(shop, one.asn_id, True, "planner:ann")
    assert done.status == "approved" and done.po_id
    with pytest.raises(StockpilotError, match="already approved"):
        vmi.decide_asn(shop, one.asn_id, False, "planner:ann")
    two = vmi.propose_asn(shop, ZED, [AsnLine("Z", "W", 3)])
    vmi.decide_asn(shop, two.asn_id, False, "planner:bob")
    assert [a["status"] for a in vmi.list_asns(shop, "ZED")] == ["rejected"]
    assert [a["id"] for a in vmi.list_asns(shop, "ACME")] == [one.asn_id]
    trail = vmi.audit_trail(shop)
    assert [(r["actor"], r["action"]) for r in trail] == [
        ("key:acme", "asn_proposed"), ("planner:ann", "asn_approved"),
        ("key:zed", "asn_proposed"), ("planner:bob", "asn_rejected")]
    assert all(r["supplier"] == "ZED" for r in vmi.audit_trail(shop, "ZED"))


def test_supplier_keys_resolve_to_their_supplier_until_revoked(shop):
    secret = create_supplier_key(shop, "ACME", "edi")
    assert supplier_of_key(shop, secret) == SupplierScope("ACME", "key:edi")
    assert supplier_of_key(shop, secret + "x") is None
    with shop.connect() as conn:
        from stockpilot.store import schema_vmi as tv

        key_id = conn.execute(select(tv.supplier_keys.c.id)).scalar_one()
    revoke_supplier_key(shop, key_id)
    assert supplier_of_key(shop, secret) is None
    with pytest.raises(NotFound):
        create_supplier_key(shop, "NOBODY", "x")


def test_bounds_must_be_ordered_and_for_own_items(shop):
    with pytest.raises(StockpilotError, match="min"):
        vmi.set_bounds(shop, "ACME", "A", "W", 50, 10)
    with pytest.raises(NotFound):
        vmi.set_bounds(shop, "ACME", "Z", "W", 0, 10)
