"""Receipts that name a purchase order on the wire: received against its open line, or refused.

A wire receipt may carry ``purchase_order_id``. It must name an open (``open`` or
``partial``) purchase order with a line of the receipt's SKU and location that still has
units open; the receipt then lowers on_order by its quantity *and* raises that line's
``received`` in the same transaction, so the PO, on_order and ``stock check`` agree. Anything
else is an :class:`InvalidEvent` naming the PO, SKU and location: an unknown, closed or
cancelled PO, no such line, or more units than the line has open (an over-receipt is
confirmed through :func:`stockpilot.ledger.purchasing.receive_purchase_order`, not guessed
from a stream). The internal ``on_order_units`` is never taken from the wire: it is computed
here (issue 17 item 3: a bare ``purchase_order_id`` lowered on_order and left the PO open).

The event's fingerprint stays that of the command as sent, so a replay is a duplicate even
after the line has closed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from stockpilot.domain.commands import LedgerCommand, ReceiveStock
from stockpilot.errors import InvalidEvent, StockpilotError
from stockpilot.store import schema as t

_L, _P = t.purchase_order_lines.c, t.purchase_orders.c
_OPEN = ("open", "partial")
Line = tuple[int, int]  # (po_id, line_no)


def names_po(cmd: LedgerCommand) -> bool:
    """True for a receipt naming a PO whose on_order effect is still to be worked out."""
    return (isinstance(cmd, ReceiveStock) and cmd.purchase_order_id is not None
            and cmd.on_order_units is None)


def resolve(conn: Connection, commands: Sequence[LedgerCommand], ready: list[int],
            known: dict[str, Any], reject: Callable[[int, StockpilotError], None]
            ) -> dict[int, tuple[ReceiveStock, Line]]:
    """For each new PO receipt in ``ready``: the command to apply and the line it receives.

    Replays (ids in ``known``) are left alone (they are duplicates or conflicts); a receipt
    that fits no open line is passed to ``reject``.
    """
    todo = [i for i in ready if names_po(commands[i]) and commands[i].event_id not in known]
    if not todo:
        return {}
    po_ids = {c.purchase_order_id for i in todo if isinstance(c := commands[i], ReceiveStock)}
    open_units = _open_lines(conn, po_ids)
    out: dict[int, tuple[ReceiveStock, Line]] = {}
    for i in todo:
        cmd = commands[i]
        assert isinstance(cmd, ReceiveStock) and cmd.purchase_order_id is not None
        try:
            line = _line_for(cmd, open_units)
        except InvalidEvent as exc:
            reject(i, exc)
            continue
        open_units[line] = (open_units[line][0], open_units[line][1] - cmd.quantity)
        out[i] = (dataclasses.replace(cmd, on_order_units=cmd.quantity), line)
    return out


def _open_lines(conn: Connection, po_ids: set[int | None]
                ) -> dict[Line, tuple[tuple[str, str], int]]:
    """Open lines of open POs: (po, line) → ((sku, location), units open); locked on PG."""
    stmt = (select(_L.po_id, _L.line_no, _L.sku, _L.location, _L.quantity, _L.received)
            .join_from(t.purchase_order_lines, t.purchase_orders, _L.po_id == _P.id)
            .where(_L.po_id.in_(sorted(p for p in po_ids if p is not None)),
                   _P.status.in_(_OPEN), _L.quantity > _L.received)
            .order_by(_L.po_id, _L.line_no))
    if conn.dialect.name == "postgresql":  # two concurrent receipts must not both fit
        stmt = stmt.with_for_update(of=t.purchase_order_lines)
    return {(r.po_id, r.line_no): ((r.sku, r.location), r.quantity - r.received)
            for r in conn.execute(stmt)}


def _line_for(cmd: ReceiveStock, open_units: dict[Line, tuple[tuple[str, str], int]]
              ) -> Line:
    po = cmd.purchase_order_id
    lines = [(k, left) for k, (key, left) in open_units.items()
             if k[0] == po and key == (cmd.sku, cmd.location) and left > 0]
    where = f"{cmd.sku}@{cmd.location}"
    if not lines:
        raise InvalidEvent(cmd.event_id, f"purchase order {po} has no open line for {where}")
    fits = [k for k, left in lines if left >= cmd.quantity]
    if not fits:
        most = max(left for _, left in lines)
        raise InvalidEvent(cmd.event_id, f"purchase order {po} has {most} units open for "
                           f"{where}; {cmd.quantity} received (an over-receipt is confirmed "
                           "on the purchase order's own receive, not on the wire)")
    return fits[0]


def mark_received(conn: Connection, received: dict[int, tuple[ReceiveStock, Line]],
                  applied: set[int]) -> None:
    """Raise the lines' ``received`` by the applied receipts; set each PO's status."""
    for i, (cmd, (po_id, line_no)) in received.items():
        if i in applied:
            conn.execute(update(t.purchase_order_lines)
                         .where(_L.po_id == po_id, _L.line_no == line_no)
                         .values(received=_L.received + cmd.quantity))
    for po_id in {line[0] for i, (_, line) in received.items() if i in applied}:
        rows = conn.execute(select(_L.quantity, _L.received).where(_L.po_id == po_id)).all()
        done = all(r.received >= r.quantity for r in rows)
        conn.execute(update(t.purchase_orders).where(_P.id == po_id)
                     .values(status="received" if done else "partial"))
