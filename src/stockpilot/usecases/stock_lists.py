"""Stock lists for the API: positions (keyset-paged), movements and lots at the actor's locations.

Positions are the hot list: the page's keys are found first on the stock table alone (the
deferred join), so the positions' expressions are computed for the rows shown, not for every
row skipped; a cursor (``after``) pages the default order without the cost of a large offset.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_

from stockpilot.domain.movements import MovementKind
from stockpilot.errors import NotFound
from stockpilot.ledger.positions import Position, positions_query
from stockpilot.store import schema as t
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor
from stockpilot.usecases.paging import CountCache, InvalidQuery, PageRequest, order_by, page_of

K, M, L = t.stock.c, t.movements.c, t.lots.c
POSITION_SORT = {"sku": K.sku, "location": K.location, "on_hand": K.on_hand,
                 "reserved": K.reserved, "on_order": K.on_order}
MOVEMENT_SORT = {"id": M.id, "occurred_at": M.occurred_at, "sku": M.sku}
LOT_SORT = {"expiry": L.expiry, "sku": L.sku, "location": L.location, "lot_code": L.lot_code}
DEFAULT_ORDER = "sku,location"


@dataclass(frozen=True)
class _Shape:
    """Which filters a positions page has (its statements are built once per shape)."""

    today: date
    scoped: bool
    sku: bool
    location: bool
    max_on_hand: bool
    after: bool
    sort: str


@lru_cache(maxsize=256)
def _page_statements(shape: _Shape) -> tuple[Any, Any]:
    """(count, page) statements of a shape, with bound parameters (``k_…``).

    Built once: constructing, cache-keying and compiling a fresh SELECT per request cost more
    CPU than the page itself. The page is a deferred join: keys first, on the stock table.
    """
    where: list[Any] = []
    if shape.scoped:
        where.append(K.location.in_(bindparam("k_locs", expanding=True)))
    if shape.sku:
        where.append(K.sku == bindparam("k_sku"))
    if shape.location:
        where.append(K.location == bindparam("k_loc"))
    if shape.max_on_hand:
        where.append(K.on_hand <= bindparam("k_max"))
    count = select(func.count()).select_from(t.stock).where(*where)
    if shape.after:
        where.append(tuple_(K.sku, K.location) > tuple_(bindparam("k_after_sku"),
                                                         bindparam("k_after_loc")))
    order = order_by(shape.sort, POSITION_SORT)
    keys = (select(K.sku.label("k_sku"), K.location.label("k_loc")).where(*where)
            .order_by(*order).limit(bindparam("k_limit")).offset(bindparam("k_offset"))
            .subquery())
    page = (positions_query(shape.today).order_by(None)
            .join_from(t.stock, keys, (K.sku == keys.c.k_sku) & (K.location == keys.c.k_loc))
            .order_by(*order))
    return count, page


def cursor_of(p: Position) -> str:
    """The cursor that pages after ``p`` (``next_after``)."""
    return base64.urlsafe_b64encode(json.dumps([p.sku, p.location]).encode()).decode()


def _after(cursor: str, sort: str) -> tuple[str, str]:
    """The (sku, location) a cursor pages after (only for the default order)."""
    if sort != DEFAULT_ORDER:
        raise InvalidQuery("after: a cursor pages the default order (sort=sku,location) only")
    try:
        sku, loc = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        assert isinstance(sku, str) and isinstance(loc, str)
    except (ValueError, TypeError, AssertionError) as exc:
        raise InvalidQuery("after: not a cursor from next_after") from exc
    return sku, loc


def list_positions(uow: UnitOfWork, actor: Actor, page: PageRequest, counts: CountCache, *,
                   sku: str | None = None, location: str | None = None,
                   max_on_hand: int | None = None, after: str | None = None
                   ) -> tuple[list[Position], int, str | None]:
    """One page of positions, the total (≥ 10,000 may be ``counts``' age old), next cursor."""
    order_by(page.sort, POSITION_SORT)  # refuses an unknown sort before anything runs
    shape = _Shape(datetime.now(UTC).date(), actor.locations is not None, sku is not None,
                   location is not None, max_on_hand is not None, after is not None,
                   page.sort)
    params: dict[str, Any] = {"k_locs": actor.scope() or [""], "k_sku": sku,
                              "k_loc": location, "k_max": max_on_hand}
    params = {k: v for k, v in params.items() if v is not None}
    count, stmt = _page_statements(shape)
    total = counts.count(uow.conn, count, params,
                         key=f"{shape}|{sorted(params.items(), key=str)!r}")
    if after is not None:
        params["k_after_sku"], params["k_after_loc"] = _after(after, page.sort)
    params.update(k_limit=page.limit, k_offset=page.offset)
    rows = [Position(*r) for r in uow.conn.execute(stmt, params)]  # Position's column order
    nxt = cursor_of(rows[-1]) if len(rows) == page.limit and page.sort == DEFAULT_ORDER \
        else None
    return rows, total, nxt


@lru_cache(maxsize=8)
def _stock_of_statement(today: date, scoped: bool) -> Any:
    """The one-SKU statement, built once a day per shape.

    Bound parameters ``k_sku`` and, when scoped, ``k_locs``: building and cache-keying a
    fresh SELECT cost more CPU than the indexed lookup itself on this hot route.
    """
    where = [K.sku == bindparam("k_sku")]
    if scoped:
        where.append(K.location.in_(bindparam("k_locs", expanding=True)))
    return positions_query(today).order_by(None).where(*where).order_by(K.location.asc())


def stock_of(uow: UnitOfWork, actor: Actor, sku: str) -> list[Position]:
    """One SKU's positions at the actor's locations (:class:`NotFound` when none)."""
    params: dict[str, Any] = {"k_sku": sku}
    if actor.locations is not None:
        params["k_locs"] = actor.scope() or [""]
    stmt = _stock_of_statement(datetime.now(UTC).date(), actor.locations is not None)
    # the SELECT's columns are Position's fields in order: positional construction
    rows = [Position(*r) for r in uow.conn.execute(stmt, params)]
    if not rows:
        raise NotFound(f"no stock for SKU {sku!r}")
    return rows


def list_movements(uow: UnitOfWork, actor: Actor, page: PageRequest, *,
                   sku: str | None = None, location: str | None = None,
                   kind: str | None = None, since: datetime | None = None,
                   until: datetime | None = None) -> tuple[list[dict[str, Any]], int]:
    """Ledger lines at the actor's locations (``kind`` by label): one page and the total."""
    stmt = select(t.movements)
    if actor.locations is not None:
        stmt = stmt.where(M.location.in_(actor.scope() or []))
    if kind is not None:
        stmt = stmt.where(M.kind == MovementKind[kind.upper()].value)
    for col, value in ((M.sku, sku), (M.location, location)):
        if value is not None:
            stmt = stmt.where(col == value)
    if since is not None:
        stmt = stmt.where(M.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(M.occurred_at < until)
    rows, total = page_of(uow.conn, stmt, page, MOVEMENT_SORT)
    return [{**r, "kind": MovementKind(r["kind"]).label} for r in rows], total


def list_lots(uow: UnitOfWork, actor: Actor, page: PageRequest, *, sku: str | None = None,
              location: str | None = None, expires_before: date | None = None
              ) -> tuple[list[dict[str, Any]], int]:
    """Lots at the actor's locations: one page and the total."""
    stmt = select(t.lots)
    if actor.locations is not None:
        stmt = stmt.where(L.location.in_(actor.scope() or []))
    for col, value in ((L.sku, sku), (L.location, location)):
        if value is not None:
            stmt = stmt.where(col == value)
    if expires_before is not None:
        stmt = stmt.where(L.expiry < expires_before)
    return page_of(uow.conn, stmt, page, LOT_SORT)
