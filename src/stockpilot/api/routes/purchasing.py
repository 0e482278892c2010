"""Purchase orders: create (units go on order), receive (receipts in the ledger), cancel."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy import Connection, exists, select

from stockpilot.api.auth import Principal
from stockpilot.api.deps import (
    Ctx,
    Operator,
    Page,
    Paged,
    Planner,
    Viewer,
    order_by,
    page_of,
    sort_query,
    visible,
)
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Money, Out, RowId, Text, Text128, Units
from stockpilot.errors import NotFound
from stockpilot.ledger.purchasing import (
    OrderLine,
    cancel_purchase_order_in,
    create_purchase_order_in,
    receive_purchase_order_in,
)
from stockpilot.store import schema as t

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


PO = t.purchase_orders.c
LN = t.purchase_order_lines.c
PO_SORT = {"id": PO.id, "created_at": PO.created_at, "supplier": PO.supplier,
           "expected_at": PO.expected_at}
PoSort = Annotated[str, sort_query(list(PO_SORT), "-id")]
Status = Literal["open", "partial", "received", "cancelled"]


def _outside(who: Principal) -> Any:
    """Orders with a line at a location the key may not see."""
    assert who.locations is not None
    return exists().where(LN.po_id == PO.id, LN.location.not_in(sorted(who.locations)))


def _with_lines(conn: Connection, orders: list[dict[str, Any]]) -> list[PurchaseOrderPublic]:
    ids = [o["id"] for o in orders]
    lines: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for r in conn.execute(select(t.purchase_order_lines).where(LN.po_id.in_(ids))
                              .order_by(LN.po_id, LN.line_no)):
            lines[r.po_id].append(dict(r._mapping))
    return [PurchaseOrderPublic(**o, lines=[LinePublic(**ln) for ln in lines[o["id"]]])
            for o in orders]


def _get(conn: Connection, po_id: int, who: Principal) -> PurchaseOrderPublic:
    stmt = select(t.purchase_orders).where(PO.id == po_id)
    if who.locations is not None:
        stmt = stmt.where(~_outside(who))
    row = conn.execute(stmt).first()
    if row is None:
        raise NotFound(f"no purchase order {po_id}")
    return _with_lines(conn, [dict(row._mapping)])[0]


@router.get("/purchase-orders")
def list_purchase_orders(who: Viewer, ctx: Ctx, page: Paged, status: Status | None = None,
                         supplier: str | None = None, sort: PoSort = "-id"
                         ) -> Page[PurchaseOrderPublic]:
    """Purchase orders whose every line is at the key's locations."""
    stmt = select(t.purchase_orders)
    if who.locations is not None:
        stmt = stmt.where(~_outside(who))
    for col, value in ((PO.status, status), (PO.supplier, supplier)):
        if value is not None:
            stmt = stmt.where(col == value)
    with ctx.read() as conn:
        rows, total = page_of(conn, stmt, page, order_by(sort, PO_SORT))
        items = _with_lines(conn, rows)
    return Page(items=items, limit=page.limit, offset=page.offset, total=total)


@router.post("/purchase-orders", status_code=201)
def create_purchase_order(body: PurchaseOrderCreate, who: Planner, idem: Idem
                          ) -> PurchaseOrderPublic:
    """Create an open order; its quantities go on order at once."""
    visible(who, *[ln.location for ln in body.lines], what="location")
    lines = [OrderLine(ln.sku, ln.location, ln.quantity, ln.unit_cost) for ln in body.lines]

    def effect(conn: Connection) -> tuple[int, Any]:
        po_id, new = create_purchase_order_in(conn, body.supplier, lines,
                                              reference=body.reference,
                                              expected_at=body.expected_at)
        return (201 if new else 200), _get(conn, po_id, who)

    return idem.run(body, effect)  # type: ignore[return-value]


@router.get("/purchase-orders/{po_id}")
def get_purchase_order(po_id: RowId, who: Viewer, ctx: Ctx) -> PurchaseOrderPublic:
    """One purchase order (404 when a line is outside the key's locations)."""
    with ctx.read() as conn:
        return _get(conn, po_id, who)


@router.post("/purchase-orders/{po_id}/receive")
def receive(po_id: RowId, body: ReceiveIn, who: Operator, idem: Idem) -> ReceiveOut:
    """Post receipts (ledger events ``<prefix>-<line_no>``: posting twice changes nothing)."""

    def effect(conn: Connection) -> tuple[int, Any]:
        _get(conn, po_id, who)
        results = receive_purchase_order_in(conn, po_id, body.lines,
                                            event_prefix=body.event_prefix,
                                            occurred_at=body.occurred_at)
        receipts = [ReceiptPublic(event_id=r.event_id, status=r.status, error=r.error)
                    for r in results]
        return 200, ReceiveOut(receipts=receipts, purchase_order=_get(conn, po_id, who))

    return idem.run(body, effect)  # type: ignore[return-value]


class CancelIn(In):
    """Nothing to say yet (reserved for a reason)."""

    reason: Text | None = None


@router.post("/purchase-orders/{po_id}/cancel")
def cancel(po_id: RowId, body: CancelIn, who: Planner, idem: Idem) -> PurchaseOrderPublic:
    """Cancel an order: open quantities leave on order; received units stay."""

    def effect(conn: Connection) -> tuple[int, Any]:
        _get(conn, po_id, who)
        cancel_purchase_order_in(conn, po_id)
        return 200, _get(conn, po_id, who)

    return idem.run(body, effect)  # type: ignore[return-value]
