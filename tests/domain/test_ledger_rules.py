"""The ledger's pure rules, one behaviour at a time, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from stockpilot.domain import commands as c
from stockpilot.domain.ledger import LotState, StockState, apply, check_state, replay
from stockpilot.domain.movements import MovementKind
from stockpilot.errors import InsufficientStock, InvalidEvent

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)


def plain(on_hand=0, reserved=0, backorders=False, loc="W"):
    return StockState("A", loc, on_hand, reserved, allows_backorders=backorders)


def fresh(*lots, loc="W"):
    st = StockState("F", loc, lot_tracked=True)
    for code, expiry, oh, res in lots:
        st.lots[code] = LotState(code, expiry, oh, res)
        st.on_hand += oh
        st.reserved += res
    return st


def run(cmd, *states):
    table = {(s.sku, s.location): s for s in states}
    moves = apply(cmd, table)
    return moves, table


def sale(qty, sku="A", **kw):
    return c.RecordSale(event_id="e", sku=sku, location="W", quantity=qty, occurred_at=NOW, **kw)


def test_sale_takes_units_and_records_one_movement():
    moves, table = run(sale(3), plain(10))
    assert table[("A", "W")].on_hand == 7
    [m] = moves
    assert (m.kind, m.on_hand_delta, m.reserved_delta) == (MovementKind.SALE, -3, 0)


def test_oversell_is_rejected_with_details_and_nothing_changes():
    st = plain(5, reserved=3)
    with pytest.raises(InsufficientStock) as info:
        run(sale(3), st)
    err = info.value
    assert (err.sku, err.location, err.requested, err.available) == ("A", "W", 3, 2)
    assert (st.on_hand, st.reserved) == (5, 3)


def test_backorder_location_sells_below_zero_but_never_for_adjustments():
    _, table = run(sale(4), plain(1, backorders=True))
    assert table[("A", "W")].on_hand == -3
    with pytest.raises(InsufficientStock):
        run(c.AdjustStock(event_id="a", sku="A", location="W", quantity=-2, occurred_at=NOW),
            plain(1, backorders=True))


def test_reservation_then_shipping_from_reserved():
    _, table = run(c.ReserveStock(event_id="r", sku="A", location="W", quantity=4,
                                  occurred_at=NOW), plain(5))
    st = table[("A", "W")]
    assert (st.on_hand, st.reserved, st.available(NOW.date())) == (5, 4, 1)
    with pytest.raises(InsufficientStock):
        run(sale(2), st)
    _, table = run(sale(4, from_reserved=True), st)
    assert (table[("A", "W")].on_hand, table[("A", "W")].reserved) == (1, 0)


def test_release_more_than_reserved_is_invalid():
    with pytest.raises(InvalidEvent, match="only 1 units reserved"):
        run(c.ReleaseReservation(event_id="x", sku="A", location="W", quantity=2,
                                 occurred_at=NOW), plain(5, reserved=1))


def test_fefo_skips_expired_lots_and_splits_across_lots():
    st = fresh(("OLD", date(2024, 5, 1), 10, 0), ("SOON", date(2024, 6, 5), 3, 1),
               ("LATE", date(2024, 9, 1), 5, 0))
    assert st.available(NOW.date()) == 7
    moves, table = run(sale(4, sku="F"), st)
    assert [(m.lot_code, m.on_hand_delta) for m in moves] == [("SOON", -2), ("LATE", -2)]
    lots = table[("F", "W")].lots
    assert (lots["OLD"].on_hand, lots["SOON"].on_hand, lots["LATE"].on_hand) == (10, 1, 3)
    assert check_state(table[("F", "W")]) == []


def test_expired_units_are_not_available_but_can_be_written_off():
    st = fresh(("OLD", date(2024, 5, 1), 10, 0))
    with pytest.raises(InsufficientStock) as info:
        run(sale(1, sku="F"), st)
    assert info.value.available == 0
    moves, table = run(c.WriteOff(event_id="w", sku="F", location="W", quantity=10,
                                  occurred_at=NOW, lot_code="OLD", reason="expired"), st)
    assert moves[0].kind == MovementKind.WRITE_OFF and table[("F", "W")].on_hand == 0


def test_lot_tracked_receipt_needs_lot_and_expiry():
    with pytest.raises(InvalidEvent, match="lot_code needed"):
        run(c.ReceiveStock(event_id="r", sku="F", location="W", quantity=1, occurred_at=NOW),
            fresh())
    with pytest.raises(InvalidEvent, match="needs an expiry"):
        run(c.ReceiveStock(event_id="r", sku="F", location="W", quantity=1, occurred_at=NOW,
                           lot_code="N"), fresh())


def test_count_records_variance_and_releases_what_it_cannot_cover():
    moves, table = run(c.CountStock(event_id="k", sku="A", location="W", quantity=2,
                                    occurred_at=NOW), plain(10, reserved=5))
    st = table[("A", "W")]
    assert (st.on_hand, st.reserved) == (2, 2)
    kinds = [(m.kind, m.on_hand_delta, m.reserved_delta, m.variance) for m in moves]
    assert kinds == [(MovementKind.RELEASE, 0, -3, None), (MovementKind.COUNT, -8, 0, -8)]


def test_transfer_moves_lots_with_their_expiry():
    src = fresh(("SOON", date(2024, 6, 5), 3, 0), ("LATE", date(2024, 9, 1), 5, 0))
    dst = fresh(loc="S")
    cmd = c.TransferStock(event_id="t", sku="F", location="W", to_location="S", quantity=4,
                          occurred_at=NOW)
    moves, table = run(cmd, src, dst)
    assert {k: (v.expiry, v.on_hand) for k, v in table[("F", "S")].lots.items()} == {
        "SOON": (date(2024, 6, 5), 3), "LATE": (date(2024, 9, 1), 1)}
    assert sum(m.on_hand_delta for m in moves) == 0
    assert replay(moves) == {("F", "W"): (-4, 0), ("F", "S"): (4, 0)}


def test_failed_transfer_leaves_both_sides_untouched():
    src, dst = plain(2), plain(7, loc="S")
    cmd = c.TransferStock(event_id="t", sku="A", location="W", to_location="S", quantity=3,
                          occurred_at=NOW)
    with pytest.raises(InsufficientStock):
        run(cmd, src, dst)
    assert (src.on_hand, dst.on_hand) == (2, 7)


@pytest.mark.parametrize(("cmd", "reason"), [
    (sale(0), "positive"),
    (sale(2.5), "integer"),
    (c.AdjustStock(event_id="a", sku="A", location="W", quantity=0, occurred_at=NOW), "0 units"),
    (c.CountStock(event_id="k", sku="A", location="W", quantity=-1, occurred_at=NOW),
     "negative"),
    (c.TransferStock(event_id="t", sku="A", location="W", to_location="W", quantity=1,
                     occurred_at=NOW), "two different"),
])
def test_malformed_commands_are_invalid(cmd, reason):
    with pytest.raises(InvalidEvent, match=reason):
        run(cmd, plain(10))


def test_receipt_against_a_purchase_order_reduces_on_order():
    st = plain(0)
    st.on_order = 10
    _, table = run(c.ReceiveStock(event_id="r", sku="A", location="W", quantity=4,
                                  occurred_at=NOW, purchase_order_id=1), st)
    assert (table[("A", "W")].on_hand, table[("A", "W")].on_order) == (4, 6)


def test_fingerprint_tells_replays_from_reused_ids():
    a, b = sale(1), sale(1)
    assert a.fingerprint() == b.fingerprint()
    assert sale(2).fingerprint() != a.fingerprint()
    assert c.command_from_dict(a.to_dict()) == a
