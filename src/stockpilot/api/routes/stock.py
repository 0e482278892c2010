"""Stock: positions, movements, lots, and the batch of events that changes them."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field, TypeAdapter
from sqlalchemy import Connection, func, literal, select, tuple_

from stockpilot.api.deps import (
    Ctx,
    Operator,
    Page,
    Paged,
    Viewer,
    fast_json,
    page_request,
    scoped,
    sort_query,
)
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES, InvalidQuery
from stockpilot.api.schemas import In, Out
from stockpilot.domain.movements import MovementKind
from stockpilot.errors import NotFound
from stockpilot.events.consumer import BatchResult, Message, apply_messages_in, count
from stockpilot.ledger.positions import positions_query
from stockpilot.store import schema as t
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.paging import order_by, page_of

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


K = t.stock.c
POS_SORT = {"sku": K.sku, "location": K.location, "on_hand": K.on_hand,
            "reserved": K.reserved, "on_order": K.on_order}
PosSort = Annotated[str, sort_query(list(POS_SORT), "sku,location")]


def _positions(conn: Connection, where: list[Any], page: Any, order: list[Any],
               counts: Any = None, total: int | None = None
               ) -> tuple[list[PositionPublic], int]:
    """Positions matching ``where``, one page of them when ``page`` is given.

    The page's keys are found first on the stock table alone (the deferred join): the
    positions' expressions are computed for the rows shown, not for every row skipped.
    """
    stmt = positions_query().order_by(None)
    if page is None:
        rows = conn.execute(stmt.where(*where).order_by(*order)).all()
        return [PositionPublic(**r._mapping) for r in rows], len(rows)
    if total is None:
        total = counts.count(conn, select(func.count()).select_from(t.stock).where(*where))
    keys = (select(K.sku.label("k_sku"), K.location.label("k_loc")).where(*where)
            .order_by(*order).limit(page.limit).offset(page.offset).subquery())
    stmt = stmt.join_from(t.stock, keys, (K.sku == keys.c.k_sku)
                          & (K.location == keys.c.k_loc)).order_by(*order)
    return [PositionPublic(**r._mapping) for r in conn.execute(stmt)], int(total)


def _cursor(row: PositionPublic) -> str:
    return base64.urlsafe_b64encode(json.dumps([row.sku, row.location]).encode()).decode()


def _after(cursor: str, sort: str) -> Any:
    """The keyset condition of a cursor (only for the default order)."""
    if sort != "sku,location":
        raise InvalidQuery("after: a cursor pages the default order (sort=sku,location) only")
    try:
        sku, loc = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        assert isinstance(sku, str) and isinstance(loc, str)
    except (ValueError, TypeError, AssertionError) as exc:
        raise InvalidQuery("after: not a cursor from next_after") from exc
    return tuple_(K.sku, K.location) > tuple_(literal(sku), literal(loc))


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
    where: list[Any] = [] if who.locations is None else [K.location.in_(sorted(who.locations))]
    where += [c == v for c, v in ((K.sku, sku), (K.location, location)) if v is not None]
    if max_on_hand is not None:
        where.append(K.on_hand <= max_on_hand)
    order = order_by(sort, POS_SORT)
    with ctx.read() as conn:
        total = None
        if after is not None:
            total = ctx.counts.count(conn, select(func.count()).select_from(t.stock)
                                     .where(*where))
            where.append(_after(after, sort))
        rows, total = _positions(conn, where, page, order, ctx.counts, total)
    nxt = _cursor(rows[-1]) if len(rows) == page.limit and sort == "sku,location" else None
    return fast_json(Page[PositionPublic](  # type: ignore[return-value]
        items=rows, limit=page.limit, offset=page.offset, total=total, next_after=nxt))


_POSITIONS = TypeAdapter(list[PositionPublic])


@router.get("/stock/{sku}")
def stock_of(sku: str, who: Viewer, ctx: Ctx) -> list[PositionPublic]:
    """One SKU's positions at the locations the key may see (404 when none)."""
    where: list[Any] = [K.sku == sku]
    if who.locations is not None:
        where.append(K.location.in_(sorted(who.locations)))
    with ctx.read() as conn:
        rows, _ = _positions(conn, where, None, [K.location.asc()])
    if not rows:
        raise NotFound(f"no stock for SKU {sku!r}")
    return Response(_POSITIONS.dump_json(rows), media_type="application/json")  # type: ignore[return-value]


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


M = t.movements.c
MOVE_SORT = {"id": M.id, "occurred_at": M.occurred_at, "sku": M.sku}
MoveSort = Annotated[str, sort_query(list(MOVE_SORT), "id")]


@router.get("/movements")
def list_movements(who: Viewer, ctx: Ctx, page: Paged, sku: str | None = None,
                   location: str | None = None, kind: KindName | None = None,
                   since: datetime | None = None, until: datetime | None = None,
                   sort: MoveSort = "id") -> Page[MovementPublic]:
    """Ledger lines at the key's locations (filter by SKU, location, kind, time)."""
    stmt = scoped(select(t.movements), who, M.location)
    if kind is not None:
        stmt = stmt.where(M.kind == MovementKind[kind.upper()].value)
    for col, value in ((M.sku, sku), (M.location, location)):
        if value is not None:
            stmt = stmt.where(col == value)
    if since is not None:
        stmt = stmt.where(M.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(M.occurred_at < until)
    with ctx.read() as conn:
        rows, total = page_of(conn, stmt, page_request(page, sort), MOVE_SORT)
    items = [MovementPublic(**{**r, "kind": MovementKind(r["kind"]).label}) for r in rows]
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


O = t.lots.c  # noqa: E741
LOT_SORT = {"expiry": O.expiry, "sku": O.sku, "location": O.location, "lot_code": O.lot_code}
LotSort = Annotated[str, sort_query(list(LOT_SORT), "expiry,sku")]


@router.get("/lots")
def list_lots(who: Viewer, ctx: Ctx, page: Paged, sku: str | None = None,
              location: str | None = None, expires_before: date | None = None,
              sort: LotSort = "expiry,sku") -> Page[LotPublic]:
    """Lots at the key's locations (filter by SKU, location, expiry before a day)."""
    stmt = scoped(select(t.lots), who, O.location)
    for col, value in ((O.sku, sku), (O.location, location)):
        if value is not None:
            stmt = stmt.where(col == value)
    if expires_before is not None:
        stmt = stmt.where(O.expiry < expires_before)
    with ctx.read() as conn:
        rows, total = page_of(conn, stmt, page_request(page, sort), LOT_SORT)
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
        conn = uow.conn
        res = apply_messages_in(conn, "api", msgs)
        return 200, EventsOut(applied=res.applied, duplicate=res.duplicate, dead=res.dead,
                              refused_out_of_scope=refused)

    response = idem.run(body, effect)
    out = json.loads(bytes(response.body))
    if response.headers.get("Idempotent-Replayed") is None and response.status_code == 200:
        count("api", BatchResult(out["applied"], out["duplicate"], out["dead"]))
    return response  # type: ignore[return-value]
