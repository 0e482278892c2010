"""Purchase orders: creating one puts units on order; receiving it posts receipts.

on_order on each stock row always equals the open quantity (ordered − received) of the lines
of open and partially received orders for that SKU-location; the invariant checker verifies
it. Receipts go through the ledger like any event, so they are idempotent by event id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, bindparam, insert, select, update

from stockpilot.domain.commands import ReceiveStock
from stockpilot.errors import InvalidEvent, NotFound, StockpilotError, UnknownSku
from stockpilot.ledger.catalogue import existing
from stockpilot.ledger.service import EventResult, _Catalogue, _ensure_rows, apply_events
from stockpilot.store import schema as t


@dataclass(frozen=True)
class OrderLine:
    """One line of a purchase order to create."""

    sku: str
    location: str
    quantity: int
    unit_cost: float | None = None


def create_purchase_order(conn: Connection, supplier: str, lines: Sequence[OrderLine], *,
                          reference: str | None = None, expected_at: date | None = None
                          ) -> tuple[int, bool]:
    """Create an open purchase order and add its quantities to on_order (the caller commits).

    Returns (its id, whether it is new): with a ``reference`` already used, the existing
    order's id and ``False`` (idempotent).
    """
    if not lines:
        raise StockpilotError("a purchase order needs at least one line")
    for ln in lines:
        if type(ln.quantity) is not int or ln.quantity <= 0:
            raise StockpilotError(
                f"line {ln.sku}@{ln.location}: quantity must be a positive "
                f"integer, got {ln.quantity!r}"
            )
    if reference is not None:
        found = conn.execute(select(t.purchase_orders.c.id)
                             .where(t.purchase_orders.c.reference == reference)).scalar()
        if found is not None:
            return int(found), False
    _check_catalogue(conn, supplier, lines)
    po_id = conn.execute(insert(t.purchase_orders).values(
        supplier=supplier, status="open", reference=reference,
        created_at=datetime.now(UTC), expected_at=expected_at)
        .returning(t.purchase_orders.c.id)).scalar_one()
    conn.execute(insert(t.purchase_order_lines), [
        {"po_id": po_id, "line_no": i + 1, "sku": ln.sku, "location": ln.location,
         "quantity": ln.quantity, "received": 0, "unit_cost": ln.unit_cost}
        for i, ln in enumerate(lines)])
    _add_on_order(conn, [(ln.sku, ln.location, ln.quantity) for ln in lines])
    return int(po_id), True


def _check_catalogue(conn: Connection, supplier: str, lines: Sequence[OrderLine]) -> None:
    if not existing(conn, t.suppliers, "supplier", {supplier}):
        raise NotFound(f"unknown supplier {supplier!r}")
    skus = {ln.sku for ln in lines}
    missing = skus - existing(conn, t.skus, "sku", skus)
    if missing:
        raise UnknownSku(sorted(missing)[0])
    locs = {ln.location for ln in lines}
    missing = locs - existing(conn, t.locations, "location", locs)
    if missing:
        raise NotFound(f"unknown location {sorted(missing)[0]!r}")


def _add_on_order(conn: Connection, deltas: list[tuple[str, str, int]]) -> None:
    if not deltas:
        return
    keys = sorted({(s, loc) for s, loc, _ in deltas})
    backorders = dict(
        conn.execute(select(t.locations.c.location, t.locations.c.allows_backorders)).all()
    )
    _ensure_rows(conn, keys, _Catalogue({}, {k: bool(v) for k, v in backorders.items()}))
    s = t.stock.c
    conn.execute(
        update(t.stock)
        .where(s.sku == bindparam("k_sku"), s.location == bindparam("k_loc"))
        .values(on_order=s.on_order + bindparam("delta"), version=s.version + 1),
        [{"k_sku": sku, "k_loc": loc, "delta": q} for sku, loc, q in deltas],
    )


def receive_purchase_order(
    conn: Connection,
    po_id: int,
    received: dict[int, int] | None = None,
    *,
    event_prefix: str | None = None,
    occurred_at: datetime | None = None,
    lots: dict[int, tuple[str, date]] | None = None,
    over_receipt: bool = False,
) -> list[EventResult]:
    """Post receipts for a purchase order (all open quantities, or ``{line_no: units}``).

    Event ids are ``{event_prefix or 'po-<id>'}-<line_no>``, so posting the same receipt twice
    changes nothing. Lot-tracked SKUs need ``lots[line_no] = (lot_code, expiry)``. Receiving
    more than a line has open is refused (:class:`InvalidEvent` naming the PO, line and
    SKU-location) unless ``over_receipt`` says the surplus is wanted. The caller commits.
    """
    prefix = event_prefix or f"po-{po_id}"
    when = occurred_at or datetime.now(UTC)
    lines = _open_lines(conn, po_id)
    todo = received or {n: q - r for n, (_, _, q, r) in lines.items() if q > r}
    done = _applied_ids(conn, [f"{prefix}-{n}" for n in todo])
    commands = []
    for line_no, units in sorted(todo.items()):
        if line_no not in lines:
            raise InvalidEvent(
                f"{prefix}-{line_no}", f"purchase order {po_id} has no line {line_no}"
            )
        sku, loc, qty, got = lines[line_no]
        if units > qty - got and not over_receipt and f"{prefix}-{line_no}" not in done:
            raise InvalidEvent(
                f"{prefix}-{line_no}",
                f"purchase order {po_id} line {line_no} ({sku}@{loc}) has {qty - got} of "
                f"{qty} units open; {units} received (confirm an over-receipt to accept it)")
        lot_code, expiry = (lots or {}).get(line_no, (None, None))
        commands.append(
            ReceiveStock(
                event_id=f"{prefix}-{line_no}",
                sku=sku,
                location=loc,
                quantity=units,
                occurred_at=when,
                purchase_order_id=po_id,
                on_order_units=max(0, min(units, qty - got)),
                lot_code=lot_code,
                expiry=expiry,
                reference=f"PO {po_id}",
            )
        )
    results = apply_events(conn, commands)
    applied = {
        int(r.event_id.rsplit("-", 1)[1]): c.quantity
        for r, c in zip(results, commands, strict=True)
        if r.status == "applied"
    }
    _mark_received(conn, po_id, applied)
    return results


def _applied_ids(conn: Connection, event_ids: list[str]) -> set[str]:
    """Which of ``event_ids`` the ledger already applied (their replay is a duplicate)."""
    if not event_ids:
        return set()
    e = t.ledger_events.c
    return set(conn.execute(select(e.event_id).where(e.event_id.in_(event_ids))).scalars())


def _open_lines(conn: Connection, po_id: int) -> dict[int, tuple[str, str, int, int]]:
    po = conn.execute(
        select(t.purchase_orders.c.status).where(t.purchase_orders.c.id == po_id)
    ).scalar()
    if po is None:
        raise NotFound(f"no purchase order {po_id}")
    if po == "cancelled":
        raise StockpilotError(f"purchase order {po_id} is cancelled")
    c = t.purchase_order_lines.c
    rows = conn.execute(
        select(c.line_no, c.sku, c.location, c.quantity, c.received).where(c.po_id == po_id)
    )
    return {r.line_no: (r.sku, r.location, r.quantity, r.received) for r in rows}


def _mark_received(conn: Connection, po_id: int, applied: dict[int, int]) -> None:
    c = t.purchase_order_lines.c
    for line_no, units in applied.items():
        conn.execute(
            update(t.purchase_order_lines)
            .where(c.po_id == po_id, c.line_no == line_no)
            .values(received=c.received + units)
        )
    rows = conn.execute(select(c.quantity, c.received).where(c.po_id == po_id)).all()
    done = all(r.received >= r.quantity for r in rows)
    some = any(r.received > 0 for r in rows)
    status = "received" if done else "partial" if some else "open"
    conn.execute(
        update(t.purchase_orders).where(t.purchase_orders.c.id == po_id).values(status=status)
    )


def cancel_purchase_order(conn: Connection, po_id: int) -> None:
    """Cancel an order: its open quantities leave on_order; received units stay received.

    The caller commits.
    """
    lines = _open_lines(conn, po_id)
    _add_on_order(conn, [(sku, loc, -(q - r)) for sku, loc, q, r in lines.values() if q > r])
    conn.execute(update(t.purchase_orders).where(t.purchase_orders.c.id == po_id)
                 .values(status="cancelled"))
