"""The catalogue: SKUs, locations, suppliers and their items, read and written.

The catalogue is shared by every location: any actor may read it; changing it needs the
operator role (enforced by the edges' role checks and here for writes added later).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stockpilot.store import schema as t
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor


def search_skus(uow: UnitOfWork, actor: Actor, text: str, limit: int = 20
                ) -> list[dict[str, Any]]:
    """SKUs whose id or name contains ``text`` (case-insensitive), by id."""
    s = t.skus.c
    like = f"%{text}%"
    rows = uow.conn.execute(select(s.sku, s.name).where(s.sku.ilike(like) | s.name.ilike(like))
                            .order_by(s.sku).limit(limit)).all()
    return [{"sku": r.sku, "name": r.name} for r in rows]


def sku_names(uow: UnitOfWork, actor: Actor) -> dict[str, str | None]:
    """Every SKU's name by id."""
    return {r.sku: r.name for r in uow.conn.execute(select(t.skus.c.sku, t.skus.c.name))}
