"""The purchase-order lifecycle: draft → sent → partly received → received, or cancelled.

The stored ``purchase_orders.status`` (open / partial / received / cancelled) says what
arrived; ``po_details.sent_at`` says whether it went to the supplier. The label shown
everywhere is derived from both by :func:`status_label`, in one place. Every step is recorded
in the audit trail in the transaction that makes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update

from stockpilot.errors import StockpilotError
from stockpilot.store import schema as t
from stockpilot.store import schema_orders as to
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import audit, purchasing
from stockpilot.usecases.actor import Actor, require
from stockpilot.usecases.paging import PageRequest

LABELS = ("draft", "sent", "partly received", "received", "cancelled")
PO, D = t.purchase_orders.c, to.po_details.c


class OrderClosed(StockpilotError):
    """The order is cancelled or fully received: it cannot be sent or changed."""

    status = 409
    title = "Order closed"


class ReceiptRejected(StockpilotError):
    """The ledger refused a receipt line (a lot-tracked SKU without its lot, …)."""

    status = 422
    title = "Receipt rejected"


class OverReceipt(StockpilotError):
    """A receipt exceeds a line's open quantity by more than the tolerance."""

    status = 409
    title = "Over-receipt"


def status_label(status: str, sent_at: datetime | None) -> str:
    """The lifecycle label of a stored status and sending time."""
    if status == "open":
        return "sent" if sent_at else "draft"
    return {"partial": "partly received"}.get(status, status)


@dataclass(frozen=True)
class LineView:
    """One line with its product name and value."""

    line_no: int
    sku: str
    name: str
    location: str
    quantity: int
    received: int
    open_units: int
    unit_cost: float | None
    value: float | None
    lot_tracked: bool


@dataclass(frozen=True)
class OrderView:
    """A purchase order with its terms, approver, sending and lines."""

    id: int
    supplier: str
    supplier_name: str
    supplier_email: str | None
    status: str
    label: str
    reference: str | None
    created_at: datetime
    expected_at: date | None
    currency: str
    approved_by: str | None
    approved_at: datetime | None
    sent_at: datetime | None
    sent_to: str | None
    total_value: float
    lines: list[LineView] = field(default_factory=list)


def order_view(uow: UnitOfWork, actor: Actor, po_id: int) -> OrderView:
    """The order as the PO page shows it (:class:`NotFound` outside the actor's scope)."""
    order = purchasing.get_order(uow, actor, po_id)
    det = uow.conn.execute(select(to.po_details).where(D.po_id == po_id)).first()
    sup = uow.conn.execute(select(t.suppliers).where(
        t.suppliers.c.supplier == order.supplier)).one()
    sk = t.skus.c
    info = {r.sku: (r.name or "", bool(r.lot_tracked)) for r in uow.conn.execute(
        select(sk.sku, sk.name, sk.lot_tracked).where(sk.sku.in_({ln.sku for ln in order.lines})))}
    lines = [LineView(ln.line_no, ln.sku, info.get(ln.sku, ("", False))[0], ln.location,
                      ln.quantity, ln.received, max(0, ln.quantity - ln.received),
                      ln.unit_cost, None if ln.unit_cost is None
                      else round(ln.unit_cost * ln.quantity, 2),
                      info.get(ln.sku, ("", False))[1]) for ln in order.lines]
    sent_at = det.sent_at if det else None
    return OrderView(
        order.id, order.supplier, sup.name or "", sup.email, order.status,
        status_label(order.status, sent_at), order.reference, order.created_at,
        order.expected_at, det.currency if det else purchasing.DEFAULT_CURRENCY,
        det.approved_by if det else None, det.approved_at if det else None, sent_at,
        det.sent_to if det else None, round(sum(ln.value or 0.0 for ln in lines), 2), lines)


def order_list(uow: UnitOfWork, actor: Actor, page: PageRequest, *, label: str | None = None,
               supplier: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Orders whose every line the actor sees, with their label and value: page, total."""
    if label is not None and label not in LABELS:
        raise StockpilotError(f"status must be one of {', '.join(LABELS)}, not {label!r}")
    stored = {"draft": "open", "sent": "open", "partly received": "partial"}.get(
        label or "", label)
    page = PageRequest(page.limit, page.offset, page.sort or "-id")
    orders, total = purchasing.list_orders(uow, actor, page, status=stored, supplier=supplier)
    ids = [o.id for o in orders]
    det = {r.po_id: r for r in uow.conn.execute(
        select(to.po_details).where(D.po_id.in_(ids)))} if ids else {}
    rows = []
    for o in orders:
        d = det.get(o.id)
        rows.append({
            "id": o.id, "supplier": o.supplier, "reference": o.reference,
            "label": status_label(o.status, d.sent_at if d else None),
            "created_at": o.created_at, "expected_at": o.expected_at,
            "currency": d.currency if d else purchasing.DEFAULT_CURRENCY,
            "approved_by": d.approved_by if d else None, "lines": len(o.lines),
            "units": sum(ln.quantity for ln in o.lines),
            "received": sum(ln.received for ln in o.lines),
            "value": round(sum((ln.unit_cost or 0.0) * ln.quantity for ln in o.lines), 2)})
    if label in ("draft", "sent"):  # one stored status, two labels: the page is filtered
        rows = [r for r in rows if r["label"] == label]
    return rows, total


def _open_order(uow: UnitOfWork, actor: Actor, po_id: int) -> OrderView:
    view = order_view(uow, actor, po_id)
    if view.status in ("received", "cancelled"):
        raise OrderClosed(f"purchase order {po_id} is {view.label}")
    return view


def mark_sent(uow: UnitOfWork, actor: Actor, po_id: int, sent_to: str, how: str) -> OrderView:
    """Record that the order went to the supplier (``how``: email, pdf, csv)."""
    require(actor, "planner")
    view = _open_order(uow, actor, po_id)
    now = datetime.now(UTC)
    values = {"sent_at": now, "sent_to": sent_to[:255], "sent_by": audit.who(actor)}
    found = uow.conn.execute(update(to.po_details).where(D.po_id == po_id).values(**values))
    if found.rowcount == 0:
        uow.conn.execute(to.po_details.insert().values(po_id=po_id, currency=view.currency,
                                                       **values))
    audit.record(uow, actor, "po.sent", po_id=po_id, to=sent_to, how=how)
    return order_view(uow, actor, po_id)


def receive(uow: UnitOfWork, actor: Actor, po_id: int, units: dict[int, int] | None, *,
            receipt_id: str, lots: dict[int, tuple[str, date]] | None = None,
            tolerance: float = 0.1, confirm_over: bool = False,
            occurred_at: datetime | None = None) -> tuple[list[Any], OrderView]:
    """Receive against the order (partial, over/under, lots); answers receipts and the order.

    ``receipt_id`` names the delivery: the same id posted twice is one receipt (a double
    click, a retried request). Receiving more than a line has open is accepted up to
    ``tolerance`` × its ordered quantity; beyond that only with ``confirm_over``
    (:class:`OverReceipt` names the PO, line and SKU otherwise).
    """
    require(actor, "operator")
    view = _open_order(uow, actor, po_id)
    units = units if units is not None else {ln.line_no: ln.open_units for ln in view.lines
                                             if ln.open_units > 0}
    units = {n: q for n, q in units.items() if q > 0}
    if not units:
        raise StockpilotError(f"purchase order {po_id}: nothing to receive")
    by_no = {ln.line_no: ln for ln in view.lines}
    prefix = f"po-{po_id}-{receipt_id}"[:100]
    done = _posted(uow, [f"{prefix}-{n}" for n in units])
    for n, q in units.items():
        ln = by_no.get(n)
        fresh = f"{prefix}-{n}" not in done
        if ln is not None and fresh and not confirm_over \
                and q > ln.open_units + tolerance * ln.quantity:
            raise OverReceipt(
                f"purchase order {po_id} line {n} ({ln.sku}@{ln.location}): {q} received, "
                f"{ln.open_units} open, tolerance {tolerance:.0%} of {ln.quantity}; confirm "
                f"the over-receipt to accept it")
    results, _ = purchasing.receive_order(uow, actor, po_id, units, occurred_at=occurred_at,
                                          event_prefix=prefix,
                                          lots=lots, over_receipt=True)
    bad = [r for r in results if not r.ok]
    if bad:  # nothing half received: the caller's unit of work rolls the rest back
        raise ReceiptRejected("; ".join(f"{r.event_id}: {r.error}" for r in bad))
    applied = {r.event_id.rsplit("-", 1)[1]: r.status for r in results}
    audit.record(uow, actor, "po.received", po_id=po_id, receipt=receipt_id,
                 lines={str(n): q for n, q in units.items()}, statuses=applied,
                 lots={str(n): [c, e.isoformat()] for n, (c, e) in (lots or {}).items()})
    return results, order_view(uow, actor, po_id)


def _posted(uow: UnitOfWork, event_ids: list[str]) -> set[str]:
    """Which receipt events the ledger already holds (a replayed delivery is not guarded)."""
    e = t.ledger_events.c
    return set(uow.conn.execute(select(e.event_id).where(e.event_id.in_(event_ids))).scalars())


def cancel(uow: UnitOfWork, actor: Actor, po_id: int, reason: str | None = None) -> OrderView:
    """Cancel the order (open units leave on order; received units stay)."""
    require(actor, "planner")
    _open_order(uow, actor, po_id)
    purchasing.cancel_order(uow, actor, po_id)
    audit.record(uow, actor, "po.cancelled", po_id=po_id, reason=reason)
    return order_view(uow, actor, po_id)
