"""Stock and movements as an actor sees them: positions, lots, recent movements of a SKU.

Positions come from :mod:`stockpilot.ledger.positions`; everything here is limited to the
actor's locations, and a SKU the actor has no stock row of answers "not found".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import polars as pl
from sqlalchemy import bindparam, func, select

from stockpilot.domain.movements import MovementKind
from stockpilot.errors import NotFound
from stockpilot.ledger.positions import Position, get_positions, positions_query
from stockpilot.store import schema as t
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor


@dataclass(frozen=True)
class SkuView:
    """One SKU at one of the actor's locations: item, positions, lots, recent movements."""

    sku: str
    name: str | None
    unit_cost: float | None
    price: float | None
    location: str
    position: Position
    positions: list[Position]
    lots: list[dict[str, Any]] = field(default_factory=list)
    movements: list[dict[str, Any]] = field(default_factory=list)


@lru_cache(maxsize=4)
def _statements(today: date) -> dict[str, Any]:
    """The SKU view's queries, built once a day with bound parameters.

    Building SQLAlchemy statements per request cost more than running them (measured).
    """
    s, lo, m = t.stock.c, t.lots.c, t.movements.c
    return {
        "positions": positions_query(today).where(s.sku == bindparam("k_sku")),
        "item": select(t.skus.c.name, t.skus.c.unit_cost, t.skus.c.price)
        .where(t.skus.c.sku == bindparam("k_sku")),
        "lots": select(lo.lot_code, lo.expiry, lo.on_hand, lo.reserved)
        .where(lo.sku == bindparam("k_sku"), lo.location == bindparam("k_loc"), lo.on_hand > 0)
        .order_by(lo.expiry, lo.lot_code),
        "movements": select(m.occurred_at, m.kind, m.on_hand_delta, m.reserved_delta,
                            m.lot_code, m.reference, m.event_id)
        .where(m.sku == bindparam("k_sku"), m.location == bindparam("k_loc"))
        .order_by(m.occurred_at.desc(), m.id.desc()).limit(30),
    }


def kind_label(code: int) -> str:
    """A movement kind's label (its number when unknown)."""
    try:
        return MovementKind(code).label
    except ValueError:
        return str(code)


def sku_view(uow: UnitOfWork, actor: Actor, sku: str, location: str | None = None) -> SkuView:
    """A SKU at ``location`` (default: the actor's first location holding it)."""
    q = _statements(datetime.now(UTC).date())
    conn = uow.conn
    positions = [Position(**r._mapping) for r in conn.execute(q["positions"], {"k_sku": sku})]
    positions = [p for p in positions if actor.sees(p.location)]
    item = conn.execute(q["item"], {"k_sku": sku}).first()
    if item is None or not positions:
        raise NotFound(f"no SKU {sku!r} at your locations")
    here = next((p for p in positions if p.location == location), positions[0])
    key = {"k_sku": sku, "k_loc": here.location}
    lots = [dict(r._mapping) for r in conn.execute(q["lots"], key)]
    moves = [{**r._mapping, "kind": kind_label(r.kind)} for r in conn.execute(q["movements"], key)]
    # the same unit cost as every stock value (the catalogue's, else the primary supplier's)
    cost = unit_costs(uow, actor, [sku]).get(sku)
    return SkuView(sku, item.name, cost, item.price, here.location, here, positions, lots, moves)


def positions(uow: UnitOfWork, actor: Actor, *, sku: str | None = None,
              location: str | None = None) -> list[Position]:
    """Stock positions at the actor's locations (optionally of one SKU or location)."""
    return [p for p in get_positions(uow.conn, sku=sku, location=location)
            if actor.sees(p.location)]


def available_by_sku(uow: UnitOfWork, actor: Actor) -> dict[str, int]:
    """Units available per SKU, summed over the actor's locations (negatives as 0)."""
    out: dict[str, int] = {}
    for p in positions(uow, actor):
        out[p.sku] = out.get(p.sku, 0) + max(p.available, 0)
    return out


def unit_costs(uow: UnitOfWork, actor: Actor, skus: list[str] | None = None
               ) -> dict[str, float | None]:
    """Unit cost per SKU (of ``skus``, or all): the catalogue's, else its primary supplier's."""
    si = t.supplier_items.c
    sup = (select(si.sku, func.max(si.unit_cost).label("c")).where(si.is_primary.is_(True))
           .group_by(si.sku).subquery())
    q = (select(t.skus.c.sku, func.coalesce(t.skus.c.unit_cost, sup.c.c))
         .outerjoin(sup, sup.c.sku == t.skus.c.sku))
    if skus is not None:
        q = q.where(t.skus.c.sku.in_(skus))
    rows = uow.conn.execute(q).all()
    return {r[0]: float(r[1]) if r[1] is not None else None for r in rows}


def last_movement_day(uow: UnitOfWork) -> date | None:
    """The day of the newest ledger movement (None when the ledger is empty)."""
    last = uow.conn.execute(select(func.max(t.movements.c.occurred_at))).scalar()
    return last.date() if last is not None else None


#: Data newer than this many days counts as live: "today" is the calendar's.
LIVE_DAYS = 7


def data_as_of(uow: UnitOfWork, history: HistoryStore) -> date:
    """The day rules and reports judge as "today".

    The calendar's today while the workspace is live (its newest ledger movement or day of
    demand is within :data:`LIVE_DAYS`); otherwise that newest day, so a workspace of imported
    history (the demo ends 2011-09-30) is not judged against the calendar — 15 years without a
    sale is not phantom stock. Today's date when it holds no data at all.
    """
    today = datetime.now(UTC).date()
    days = [d for d in (last_movement_day(uow),) if d is not None]
    lf = history.scan("daily")
    if lf is not None:
        last = lf.select(pl.col("date").max()).collect().item()
        if last is not None:
            days.append(last)
    newest = max(days) if days else today
    return today if newest >= today - timedelta(days=LIVE_DAYS) else newest


def on_hand_changes(uow: UnitOfWork, actor: Actor, since: datetime
                    ) -> list[tuple[str, str, date, int]]:
    """``(sku, location, day, on-hand delta)`` of each movement since ``since``, in scope."""
    m = t.movements.c
    rows = uow.conn.execute(select(m.sku, m.location, m.occurred_at, m.on_hand_delta)
                            .where(m.occurred_at >= since)).all()
    return [(r.sku, r.location, r.occurred_at.date(), r.on_hand_delta) for r in rows
            if actor.sees(r.location)]
