"""Stock in transit: shipped → in transit → received, once, all or nothing, lots kept."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from stockpilot.domain.commands import ReceiveStock
from stockpilot.errors import InsufficientStock, NotFound
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.service import apply_events
from stockpilot.store import schema as t
from stockpilot.store.uow import reading, transact, writing
from stockpilot.usecases.actor import SYSTEM, Actor, Forbidden
from stockpilot.usecases.transit import Shipment, in_transit, open_shipments, receive, ship

NOW = datetime(2024, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
def books(engine):
    with engine.begin() as conn:
        upsert_locations(conn, [{"location": x} for x in ("DC", "S1", "S2")])
        upsert_skus(conn, [{"sku": "A", "name": "A"},
                           {"sku": "L", "name": "lots", "lot_tracked": True}])
    transact(engine, apply_events, [
        ReceiveStock(event_id="a", sku="A", location="DC", quantity=50, occurred_at=NOW),
        ReceiveStock(event_id="l1", sku="L", location="DC", quantity=4, occurred_at=NOW,
                     lot_code="L1", expiry=date(2024, 9, 1)),
        ReceiveStock(event_id="l2", sku="L", location="DC", quantity=10, occurred_at=NOW,
                     lot_code="L2", expiry=date(2024, 12, 1))])
    return engine


def receive_as(engine, shipment_id, actor=SYSTEM):
    with writing(engine) as uow:
        receive(uow, actor, shipment_id)


def shipments(engine, actor=SYSTEM):
    with reading(engine) as uow:
        return open_shipments(uow, actor)


def on_hand(engine) -> dict[tuple[str, str], int]:
    with engine.connect() as conn:
        return {(s, loc): q for s, loc, q in conn.execute(
            select(t.stock.c.sku, t.stock.c.location, t.stock.c.on_hand))}


def test_ship_then_receive_moves_stock_once(books):
    (sid,) = transact(books, ship, [Shipment("t1", "A", "DC", "S1", 20)], NOW)
    assert on_hand(books)[("A", "DC")] == 30 and on_hand(books)[("A", "S1")] == 0
    with books.connect() as conn:
        assert dict(in_transit(conn).iter_rows()) == {"A@S1": 20}
    assert transact(books, ship, [Shipment("t1", "A", "DC", "S1", 20)], NOW) == [sid]  # a replay
    assert on_hand(books)[("A", "DC")] == 30
    receive_as(books, sid)
    receive_as(books, sid)  # once
    assert on_hand(books)[("A", "S1")] == 20
    with books.connect() as conn:
        assert in_transit(conn).is_empty() and check_ledger(conn) == []


def test_a_batch_that_cannot_ship_ships_nothing(books):
    with pytest.raises(InsufficientStock):
        transact(books, ship,
                 [Shipment("ok", "A", "DC", "S1", 10), Shipment("no", "A", "DC", "S2", 45)])
    assert on_hand(books)[("A", "DC")] == 50 and shipments(books).is_empty()
    with pytest.raises(NotFound):
        receive_as(books, 999)


def test_lots_travel_with_their_expiry(books):
    ids = transact(books, ship, [Shipment("tl", "L", "DC", "S1", 6)], NOW)
    assert len(ids) == 2  # FEFO: 4 of L1, 2 of L2, one in-transit row per lot
    for sid in ids:
        receive_as(books, sid)
    with books.connect() as conn:
        lots = {code: (exp, q) for code, exp, q in conn.execute(
            select(t.lots.c.lot_code, t.lots.c.expiry, t.lots.c.on_hand)
            .where(t.lots.c.location == "S1"))}
        assert check_ledger(conn) == []
    assert lots == {"L1": (date(2024, 9, 1), 4), "L2": (date(2024, 12, 1), 2)}


def test_a_shipment_is_seen_at_its_ends_and_received_at_its_destination(books):
    (sid,) = transact(books, ship, [Shipment("t2", "A", "DC", "S1", 5)], NOW)
    at = {loc: Actor("operator", frozenset({loc}), name=loc) for loc in ("DC", "S1", "S2")}
    assert [list(shipments(books, at[loc])["id"]) for loc in ("DC", "S1", "S2")] == [
        [sid], [sid], []]
    for loc in ("DC", "S2"):  # the sender and a stranger cannot receive it
        with pytest.raises(NotFound, match=f"no such shipment {sid}"):
            receive_as(books, sid, at[loc])
    with pytest.raises(Forbidden):
        receive_as(books, sid, Actor("planner", frozenset({"S1"}), name="p"))
    assert on_hand(books)[("A", "S1")] == 0
    receive_as(books, sid, at["S1"])
    assert on_hand(books)[("A", "S1")] == 5 and shipments(books).is_empty()
