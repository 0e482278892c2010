"""Transfers between locations: one atomic ledger event (out of one, into the other)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from stockpilot.api.deps import (
    Ctx,
    Operator,
    Page,
    Paged,
    Viewer,
    page_request,
    sort_query,
    visible,
)
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Out, Text, Text64, Units
from stockpilot.domain.commands import TransferStock
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import movements

router = APIRouter(tags=["transfers"], responses={**COMMON, **WRITES})


class TransferCreate(In):
    """Move units of a SKU from one location to another."""

    sku: Ident
    from_location: Ident
    to_location: Ident
    quantity: Units
    event_id: Ident | None = Field(default=None, description="Default: a new UUID")
    lot_code: Text64 | None = None
    reference: Text | None = None
    occurred_at: datetime | None = None


class TransferPublic(Out):
    """A transfer as the ledger recorded it."""

    event_id: str
    sku: str
    from_location: str
    to_location: str
    quantity: int
    occurred_at: datetime


TR_SORT = movements.TRANSFER_SORT
TrSort = Annotated[str, sort_query(list(TR_SORT), "-occurred_at")]


@router.get("/transfers")
def list_transfers(who: Viewer, ctx: Ctx, page: Paged, sku: str | None = None,
                   location: str | None = None, sort: TrSort = "-occurred_at"
                   ) -> Page[TransferPublic]:
    """Transfers whose two locations the key may both see (filter by SKU, either location)."""
    with ctx.uow() as uow:
        rows, total = movements.list_transfers(uow, who, page_request(page, sort), sku=sku,
                                               location=location)
    return Page(items=[TransferPublic(**r) for r in rows], limit=page.limit,
                offset=page.offset, total=total)


@router.post("/transfers", status_code=201)
def create_transfer(body: TransferCreate, who: Operator, idem: Idem) -> TransferPublic:
    """Move units now (409 when the source has too few available; never clamped)."""
    visible(who, body.from_location, body.to_location, what="location")
    event_id = body.event_id or f"api-transfer-{uuid.uuid4()}"
    when = body.occurred_at or datetime.now(UTC)
    cmd = TransferStock(event_id=event_id, sku=body.sku, location=body.from_location,
                        to_location=body.to_location, quantity=body.quantity,
                        occurred_at=when, lot_code=body.lot_code, reference=body.reference)

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        movements.post_one(uow, who, cmd)
        return 201, TransferPublic(event_id=event_id, sku=body.sku,
                                   from_location=body.from_location,
                                   to_location=body.to_location, quantity=body.quantity,
                                   occurred_at=when)

    return idem.run(body, effect)  # type: ignore[return-value]
