"""Stock: positions, movements, lots, and the batch of events that changes them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field, TypeAdapter

from stockpilot.api.deps import (
    Ctx,
    Operator,
    Page,
    Paged,
    Viewer,
    page_request,
    sort_query,
)
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import In, Out
from stockpilot.events.consumer import BatchResult, Message, count
from stockpilot.ledger.positions import Position
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import movements, stock_lists

router = APIRouter(tags=["stock"], responses={**COMMON, **WRITES})


class PositionPublic(Out):
    """One SKU-location's stock (GLOSSARY: on hand, reserved, available, on order, …)."""

    sku: str
    location: str
    on_hand: int
    reserved: int
    available: int
    on_order: int
    projected: int
    expired: int


POS_SORT = stock_lists.POSITION_SORT
PosSort = Annotated[str, sort_query(list(POS_SORT), "sku,location")]


@router.get("/stock")
def list_stock(who: Viewer, ctx: Ctx, page: Paged, sku: str | None = None,
               location: str | None = None,
               max_on_hand: Annotated[int | None, Query(ge=-(2**31), le=2**31 - 1)] = None,
               after: Annotated[str | None, Query(max_length=400, description=(
                   "Cursor (``next_after`` of the previous page): pages in the default "
                   "order without the cost of a large offset"))] = None,
               sort: PosSort = "sku,location") -> Page[PositionPublic]:
    """Stock positions at the key's locations (filter by SKU, location, on hand ≤ n).

    ``total`` counts every matching row; above 10,000 it may be up to 2 s old.
    """
    with ctx.uow() as uow:
        rows, total, nxt = stock_lists.list_positions(
            uow, who, page_request(page, sort), ctx.counts, sku=sku, location=location,
            max_on_hand=max_on_hand, after=after)
    body = _PositionPage(rows, page.limit, page.offset, total, nxt)
    return Response(_PAGE.dump_json(body), media_type="application/json")  # type: ignore[return-value]


@dataclass
class _PositionPage:
    """``Page[PositionPublic]``'s fields in order, over the use case's dataclasses.

    A page is serialised in one pass, without a model per row (the documented shape is the
    Page's).
    """

    items: list[Position]
    limit: int
    offset: int
    total: int
    next_after: str | None


_PAGE = TypeAdapter(_PositionPage)
_POSITION_ROWS = TypeAdapter(list[Position])


@router.get("/stock/{sku}")
async def stock_of(sku: str, who: Viewer, ctx: Ctx) -> list[PositionPublic]:
    """One SKU's positions at the locations the key may see (404 when none)."""
    # ``async`` on purpose: one indexed read on a read-only unit of work that never waits
    # for a writer (SQLite WAL readers and PostgreSQL reads take no locks), so the event loop
    # runs it inline: the thread-pool hop cost more CPU than the query (benchmarks/api_cpu.py).
    with ctx.uow() as uow:
        rows = stock_lists.stock_of(uow, who, sku)
    # the use case's dataclasses serialised as they are (same fields as PositionPublic): no
    # per-row dict, model and validation on this hot route
    return Response(_POSITION_ROWS.dump_json(rows), media_type="application/json")  # type: ignore[return-value]


# --- movements -------------------------------------------------------------------------------
KindName = Literal["receipt", "sale", "return", "adjustment", "transfer_out", "transfer_in",
                   "reservation", "release", "count", "write_off"]


class MovementPublic(Out):
    """One immutable ledger line."""

    id: int
    event_id: str
    seq: int
    kind: str
    sku: str
    location: str
    on_hand_delta: int
    reserved_delta: int
    lot_code: str | None
    expiry: date | None
    variance: int | None
    reference: str | None
    occurred_at: datetime
    recorded_at: datetime


MOVE_SORT = stock_lists.MOVEMENT_SORT
MoveSort = Annotated[str, sort_query(list(MOVE_SORT), "id")]


@router.get("/movements")
def list_movements(who: Viewer, ctx: Ctx, page: Paged, sku: str | None = None,
                   location: str | None = None, kind: KindName | None = None,
                   since: datetime | None = None, until: datetime | None = None,
                   sort: MoveSort = "id") -> Page[MovementPublic]:
    """Ledger lines at the key's locations (filter by SKU, location, kind, time)."""
    with ctx.uow() as uow:
        rows, total = stock_lists.list_movements(uow, who, page_request(page, sort), sku=sku,
                                                 location=location, kind=kind, since=since,
                                                 until=until)
    items = [MovementPublic(**r) for r in rows]
    return Page(items=items, limit=page.limit, offset=page.offset, total=total)


# --- lots ------------------------------------------------------------------------------------
class LotPublic(Out):
    """Units of one SKU at one location sharing an expiry date."""

    sku: str
    location: str
    lot_code: str
    expiry: date | None
    on_hand: int
    reserved: int


LOT_SORT = stock_lists.LOT_SORT
LotSort = Annotated[str, sort_query(list(LOT_SORT), "expiry,sku")]


@router.get("/lots")
def list_lots(who: Viewer, ctx: Ctx, page: Paged, sku: str | None = None,
              location: str | None = None, expires_before: date | None = None,
              sort: LotSort = "expiry,sku") -> Page[LotPublic]:
    """Lots at the key's locations (filter by SKU, location, expiry before a day)."""
    with ctx.uow() as uow:
        rows, total = stock_lists.list_lots(uow, who, page_request(page, sort), sku=sku,
                                            location=location, expires_before=expires_before)
    return Page(items=[LotPublic(**r) for r in rows], limit=page.limit, offset=page.offset,
                total=total)


# --- events ----------------------------------------------------------------------------------
class EventsIn(In):
    """A batch of events in the wire format of :mod:`stockpilot.events.schema` (≤ 5,000)."""

    events: Annotated[list[dict[str, Any]], Field(max_length=5000)]


class EventsOut(Out):
    """What became of a batch."""

    applied: int
    duplicate: int
    dead: int
    refused_out_of_scope: list[str]


@router.post("/events")
def post_events(body: EventsIn, who: Operator, idem: Idem) -> EventsOut:
    """Apply a batch of events (idempotent by event id); bad ones are dead-lettered.

    Events at a location outside the key's scope are refused (listed, not applied).
    """
    msgs, refused = [], []
    for e in body.events:
        locs = [e.get("location"), e.get("to_location")]
        if any(loc is not None and not who.sees(str(loc)) for loc in locs):
            refused.append(str(e.get("event_id")))
            continue
        msgs.append(Message(str(e.get("event_id", ""))[:160], json.dumps(e).encode()))

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        res = movements.post_messages(uow, who, "api", msgs)
        return 200, EventsOut(applied=res.applied, duplicate=res.duplicate, dead=res.dead,
                              refused_out_of_scope=refused)

    response = idem.run(body, effect)
    out = json.loads(bytes(response.body))
    if response.headers.get("Idempotent-Replayed") is None and response.status_code == 200:
        count("api", BatchResult(out["applied"], out["duplicate"], out["dead"]))
    return response  # type: ignore[return-value]
