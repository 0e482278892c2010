"""Purchase orders: create (units go on order), receive (receipts in the ledger), cancel."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field

from stockpilot.api.deps import (
    Ctx,
    Operator,
    Page,
    Paged,
    Planner,
    Viewer,
    page_request,
    sort_query,
)
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Money, Out, RowId, Text, Text128, Units
from stockpilot.ledger.purchasing import OrderLine
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import orders, purchasing

router = APIRouter(tags=["purchase orders"], responses={**COMMON, **WRITES})


class LineIn(In):
    """One line to order."""

    sku: Ident
    location: Ident
    quantity: Units
    unit_cost: Money | None = None


class PurchaseOrderCreate(In):
    """A purchase order (a reference already used returns that order instead)."""

    supplier: Ident
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=1000)]
    reference: Text128 | None = None
    expected_at: date | None = None


class LinePublic(Out):
    """One line of a purchase order."""

    line_no: int
    sku: str
    location: str
    quantity: int
    received: int
    unit_cost: float | None


class PurchaseOrderPublic(Out):
    """A purchase order with its lines."""

    id: int
    supplier: str
    status: str
    reference: str | None
    created_at: datetime
    expected_at: date | None
    lines: list[LinePublic]


class ReceiveIn(In):
    """What arrived: ``{line_no: units}`` (default: every open quantity)."""

    lines: Annotated[dict[int, Units] | None, Field(max_length=1000)] = None
    event_prefix: Ident | None = Field(default=None, description="Default: po-<id>")
    occurred_at: datetime | None = None


class ReceiptPublic(Out):
    """What became of one receipt event."""

    event_id: str
    status: str
    error: str | None = None


class ReceiveOut(Out):
    """The receipts posted and the order afterwards."""

    receipts: list[ReceiptPublic]
    purchase_order: PurchaseOrderPublic


PO_SORT = purchasing.SORTABLE
PoSort = Annotated[str, sort_query(list(PO_SORT), "-id")]
Status = Literal["open", "partial", "received", "cancelled"]


def _public(order: purchasing.PurchaseOrder) -> PurchaseOrderPublic:
    return PurchaseOrderPublic.model_validate(asdict(order))


@router.get("/purchase-orders")
def list_purchase_orders(who: Viewer, ctx: Ctx, page: Paged, status: Status | None = None,
                         supplier: str | None = None, sort: PoSort = "-id"
                         ) -> Page[PurchaseOrderPublic]:
    """Purchase orders whose every line is at the key's locations."""
    with ctx.uow() as uow:
        orders, total = purchasing.list_orders(uow, who, page_request(page, sort),
                                               status=status, supplier=supplier)
    return Page(items=[_public(o) for o in orders], limit=page.limit, offset=page.offset,
                total=total)


@router.post("/purchase-orders", status_code=201, responses={200: {
    "model": PurchaseOrderPublic,
    "description": "An order with this supplier and reference exists already: it is returned "
                   "unchanged (a replayed create)"}})
def create_purchase_order(body: PurchaseOrderCreate, who: Planner, idem: Idem
                          ) -> PurchaseOrderPublic:
    """Create an open order; its quantities go on order at once (201).

    The same supplier and reference again answers 200 with the order made the first time.
    """
    lines = [OrderLine(ln.sku, ln.location, ln.quantity, ln.unit_cost) for ln in body.lines]

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        order, new = purchasing.create_order(uow, who, body.supplier, lines,
                                             reference=body.reference,
                                             expected_at=body.expected_at)
        return (201 if new else 200), _public(order)

    return idem.run(body, effect)  # type: ignore[return-value]


@router.get("/purchase-orders/{po_id}")
def get_purchase_order(po_id: RowId, who: Viewer, ctx: Ctx) -> PurchaseOrderPublic:
    """One purchase order (404 when a line is outside the key's locations)."""
    with ctx.uow() as uow:
        return _public(purchasing.get_order(uow, who, po_id))


@router.post("/purchase-orders/{po_id}/receive")
def receive(po_id: RowId, body: ReceiveIn, who: Operator, idem: Idem) -> ReceiveOut:
    """Post receipts (ledger events ``<prefix>-<line_no>``: posting twice changes nothing)."""

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        results, order = purchasing.receive_order(uow, who, po_id, body.lines,
                                                  event_prefix=body.event_prefix,
                                                  occurred_at=body.occurred_at)
        receipts = [ReceiptPublic(event_id=r.event_id, status=r.status, error=r.error)
                    for r in results]
        return 200, ReceiveOut(receipts=receipts, purchase_order=_public(order))

    return idem.run(body, effect)  # type: ignore[return-value]


class CancelIn(In):
    """Nothing to say yet (reserved for a reason)."""

    reason: Text | None = None


@router.post("/purchase-orders/{po_id}/cancel")
def cancel(po_id: RowId, body: CancelIn, who: Planner, idem: Idem) -> PurchaseOrderPublic:
    """Cancel an order: open quantities leave on order; received units stay."""

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        orders.cancel(uow, who, po_id, body.reason)  # recorded in the audit trail
        return 200, _public(purchasing.get_order(uow, who, po_id))

    return idem.run(body, effect)  # type: ignore[return-value]
