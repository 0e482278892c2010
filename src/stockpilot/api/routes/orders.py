"""Editable order lines, purchase orders (send, receive, documents) and the audit trail.

The same use cases as the dashboard's ``/ui/orders`` and ``stockpilot orders``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from stockpilot.api.deps import Ctx, Operator, Page, Paged, Planner, Viewer
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Out, RowId, Text, Text64, Units
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import audit, orders, po_documents, suggestions
from stockpilot.usecases.alert_refresh import refresh_after_approval
from stockpilot.usecases.paging import PageRequest

router = APIRouter(tags=["order lines and purchase orders"], responses={**COMMON, **WRITES})


class OrderLinePublic(Out):
    """One line to order, as edited: ``suggested_qty`` is the plan's, ``order_qty`` today's."""

    sku: str
    location: str
    supplier: str
    order_qty: int
    suggested_qty: int
    order_value: float | None
    klass: str | None
    reason: str | None
    note: str | None
    edit: str | None = Field(description="quantity, add (ordered once) or null")
    po_id: int | None = Field(description="the order holding the line, once approved")


class QuantityIn(In):
    """A new quantity for a suggested line, with why."""

    quantity: Units
    note: Text | None = None


class NoteIn(In):
    """Why (optional)."""

    note: Text | None = None


class SnoozeIn(In):
    """Hide the line until this date (inclusive)."""

    until: date
    note: Text | None = None


class OrderOnceIn(In):
    """Order a SKU the plan does not suggest (supplier: the plan's, else the primary one)."""

    sku: Ident
    location: Ident
    quantity: Units
    supplier: Ident | None = None
    note: Text | None = None


class LineRef(In):
    """One line of the latest plan."""

    sku: Ident
    location: Ident


class ApproveLinesIn(In):
    """A selection of lines and/or whole suppliers (neither: every line at your locations)."""

    lines: Annotated[list[LineRef] | None, Field(max_length=10_000)] = None
    suppliers: Annotated[list[Ident] | None, Field(max_length=1000)] = None


class ApprovedOut(Out):
    """Every order holding the approved lines, and which of them this call created."""

    purchase_orders: list[int]
    created: list[int]


class Done(Out):
    """The change was recorded."""

    ok: bool = True


@router.get("/order-lines")
def list_order_lines(who: Viewer, ctx: Ctx, paging: Paged, supplier: str | None = None
                     ) -> Page[OrderLinePublic]:
    """The latest plan's lines to order at your locations, with every edit applied."""
    plan = ctx.artifacts.plan()
    with ctx.uow() as uow:
        df = suggestions.effective_lines(uow, who, plan)
    if supplier:
        df = df.filter(df["supplier"] == supplier)
    rows = df.sort("supplier", "sku", "location").slice(paging.offset, paging.limit).to_dicts()
    return Page(items=[OrderLinePublic(**r) for r in rows], limit=paging.limit,
                offset=paging.offset, total=df.height)


def _edit(ctx: Ctx, idem: Idem, body: Any, change: Any) -> Done:
    plan = ctx.artifacts.plan()

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        change(uow, plan)
        return 200, Done()

    return idem.run(body, effect)  # type: ignore[return-value]


@router.put("/order-lines/{sku}/{location}")
def set_quantity(sku: str, location: str, body: QuantityIn, who: Planner, ctx: Ctx,
                 idem: Idem) -> Done:
    """Order another quantity of a suggested line (recorded with the note in the audit)."""
    return _edit(ctx, idem, body, lambda uow, plan: suggestions.set_quantity(
        uow, who, plan, sku, location, body.quantity, body.note))


@router.post("/order-lines/{sku}/{location}/drop")
def drop(sku: str, location: str, body: NoteIn, who: Planner, ctx: Ctx, idem: Idem) -> Done:
    """Leave the line out of this plan's orders."""
    return _edit(ctx, idem, body, lambda uow, plan: suggestions.drop(
        uow, who, plan, sku, location, body.note))


@router.post("/order-lines/{sku}/{location}/snooze")
def snooze(sku: str, location: str, body: SnoozeIn, who: Planner, ctx: Ctx,
           idem: Idem) -> Done:
    """Hide the line from the suggestions until a date, whatever the plan."""
    return _edit(ctx, idem, body, lambda uow, plan: suggestions.snooze(
        uow, who, sku, location, body.until, body.note))


@router.post("/order-lines/{sku}/{location}/restore")
def restore(sku: str, location: str, body: NoteIn, who: Planner, ctx: Ctx,
            idem: Idem) -> Done:
    """Undo the line's edit and snooze: the plan's suggestion again."""
    return _edit(ctx, idem, body, lambda uow, plan: suggestions.restore(
        uow, who, plan, sku, location))


@router.post("/order-lines")
def order_once(body: OrderOnceIn, who: Planner, ctx: Ctx, idem: Idem) -> Done:
    """Add a line for a SKU the plan does not suggest."""
    return _edit(ctx, idem, body, lambda uow, plan: suggestions.order_once(
        uow, who, plan, body.sku, body.location, body.quantity, body.note, body.supplier))


@router.post("/order-lines/approve")
def approve_lines(body: ApproveLinesIn, who: Planner, ctx: Ctx, idem: Idem) -> ApprovedOut:
    """Turn the selected lines (as edited) into purchase orders, one per supplier.

    A line already on an order of this plan is answered with that order, never ordered twice.
    """
    plan = ctx.artifacts.plan()
    created: list[int] = []
    refs = None if body.lines is None else [(x.sku, x.location) for x in body.lines]

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        done = suggestions.approve(uow, who, plan, suppliers=body.suppliers, lines=refs,
                                   currency=ctx.settings.purchasing.currency)
        created.extend(done.created)
        return 200, ApprovedOut(purchase_orders=done.purchase_orders, created=done.created)

    out = idem.run(body, effect)
    if created:
        refresh_after_approval(ctx.engine, ctx.history, created)
    return out  # type: ignore[return-value]


# --- purchase orders ---------------------------------------------------------------------

class PoLinePublic(Out):
    """One line with its product name, open units and value."""

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


class PoDetailsPublic(Out):
    """A purchase order with its lifecycle label, terms, approver and sending."""

    id: int
    supplier: str
    supplier_name: str
    supplier_email: str | None
    status: str
    label: Literal["draft", "sent", "partly received", "received", "cancelled"]
    reference: str | None
    created_at: datetime
    expected_at: date | None
    currency: str
    approved_by: str | None
    approved_at: datetime | None
    sent_at: datetime | None
    sent_to: str | None
    total_value: float
    lines: list[PoLinePublic]


def _details(view: orders.OrderView) -> PoDetailsPublic:
    return PoDetailsPublic.model_validate(asdict(view))


@router.get("/purchase-orders/{po_id}/details")
def get_details(po_id: RowId, who: Viewer, ctx: Ctx) -> PoDetailsPublic:
    """The order as the PO page shows it."""
    with ctx.uow() as uow:
        return _details(orders.order_view(uow, who, po_id))


@router.get("/purchase-orders/{po_id}/document.{fmt}",
            responses={200: {"content": {"application/pdf": {}, "text/csv": {}}}})
def document(po_id: RowId, fmt: Literal["pdf", "csv"], who: Viewer, ctx: Ctx) -> Response:
    """The order as sent to the supplier: PDF or CSV."""
    with ctx.uow() as uow:
        view = orders.order_view(uow, who, po_id)
    body = po_documents.to_pdf(view) if fmt == "pdf" else po_documents.to_csv(view)
    kind = "application/pdf" if fmt == "pdf" else "text/csv"
    return Response(body, media_type=kind, headers={
        "Content-Disposition": f'attachment; filename="{po_documents.filename(view, fmt)}"'})


class SendIn(In):
    """How the order goes to the supplier.

    ``email``: PDF and CSV to the supplier's address; ``manual``: record that it was sent
    another way (``to`` says how).
    """

    how: Literal["email", "manual"] = "email"
    to: Text | None = None


@router.post("/purchase-orders/{po_id}/send")
def send(po_id: RowId, body: SendIn, who: Planner, ctx: Ctx, idem: Idem) -> PoDetailsPublic:
    """Send the order to the supplier (draft → sent)."""
    cfg = ctx.settings.purchasing

    def mail() -> None:  # outside the transaction, after the replay check
        if body.how == "email":
            po_documents.email_order(ctx.engine, who, po_id, cfg.smtp_host, cfg.smtp_port,
                                     cfg.email_from)

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        if body.how == "email":
            return 200, _details(orders.order_view(uow, who, po_id))
        return 200, _details(orders.mark_sent(uow, who, po_id, body.to or "manual", "manual"))

    return idem.run(body, effect, before=mail)  # type: ignore[return-value]


class ReceiptLineIn(In):
    """Units of one line that arrived (a lot-tracked SKU needs its lot code and expiry)."""

    line_no: Annotated[int, Field(ge=1)]
    quantity: Units
    lot_code: Text64 | None = None
    expiry: date | None = None


class ReceiptIn(In):
    """One delivery against the order (default: every open quantity)."""

    receipt_id: Ident = Field(description="names the delivery: posting it twice is one receipt")
    lines: Annotated[list[ReceiptLineIn] | None, Field(max_length=1000)] = None
    confirm_over_receipt: bool = False
    occurred_at: datetime | None = None


@router.post("/purchase-orders/{po_id}/receipts")
def receive(po_id: RowId, body: ReceiptIn, who: Operator, ctx: Ctx, idem: Idem
            ) -> PoDetailsPublic:
    """Receive against the order: partial, over (within the tolerance, or confirmed), lots."""
    units = None if body.lines is None else {x.line_no: x.quantity for x in body.lines}
    lots = {x.line_no: (x.lot_code, x.expiry) for x in body.lines or []
            if x.lot_code is not None and x.expiry is not None}

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        _, view = orders.receive(uow, who, po_id, units, receipt_id=body.receipt_id,
                                 lots=lots, confirm_over=body.confirm_over_receipt,
                                 tolerance=ctx.settings.purchasing.over_receipt_tolerance,
                                 occurred_at=body.occurred_at)
        return 200, _details(view)

    return idem.run(body, effect)  # type: ignore[return-value]


class AuditPublic(Out):
    """One recorded change: who, when, what."""

    id: int
    at: datetime
    actor: str
    action: str
    po_id: int | None
    sku: str | None
    location: str | None
    details: dict[str, Any]


@router.get("/audit")
def audit_trail(who: Viewer, ctx: Ctx, paging: Paged,
                po_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
                sku: str | None = None, location: str | None = None) -> Page[AuditPublic]:
    """Changes to suggestions and purchase orders at your locations, newest first."""
    with ctx.uow() as uow:
        rows, total = audit.trail(uow, who, PageRequest(paging.limit, paging.offset),
                                  po_id=po_id, sku=sku, location=location)
    return Page(items=[AuditPublic(**r) for r in rows], limit=paging.limit,
                offset=paging.offset, total=total)

