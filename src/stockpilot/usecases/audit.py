"""The audit trail: who changed a suggestion or moved a purchase order, and when.

Rows are appended in the same transaction as the change they describe (so a rolled-back
change leaves no record) and never updated. An actor reads only rows at its locations (rows
of a purchase order follow the order's visibility).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, or_, select

from stockpilot.store import schema as t
from stockpilot.store import schema_orders as to
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor
from stockpilot.usecases.paging import PageRequest, page_of

A = to.audit_log.c
SORTABLE = {"id": A.id, "at": A.at}


def who(actor: Actor) -> str:
    """The name recorded for an actor (its name, else its role)."""
    return (actor.name or actor.role)[:128]


def record(uow: UnitOfWork, actor: Actor, action: str, *, po_id: int | None = None,
           sku: str | None = None, location: str | None = None, **details: Any) -> None:
    """Append one audit row (on the caller's transaction)."""
    uow.conn.execute(insert(to.audit_log).values(
        at=datetime.now(UTC), actor=who(actor), action=action, po_id=po_id, sku=sku,
        location=location, details=details))


def _hidden_orders(actor: Actor) -> Any:
    """Ids of orders with a line outside the actor's locations."""
    ln = t.purchase_order_lines.c
    return select(ln.po_id).where(ln.location.not_in(actor.scope() or []))


def trail(uow: UnitOfWork, actor: Actor, page: PageRequest, *, po_id: int | None = None,
          sku: str | None = None, location: str | None = None
          ) -> tuple[list[dict[str, Any]], int]:
    """Audit rows (newest first by default) filtered by order, SKU or location: page, total."""
    stmt = select(to.audit_log)
    for col, value in ((A.po_id, po_id), (A.sku, sku), (A.location, location)):
        if value is not None:
            stmt = stmt.where(col == value)
    if actor.locations is not None:
        stmt = stmt.where(or_(A.location.is_(None), A.location.in_(actor.scope() or [])),
                          or_(A.po_id.is_(None), A.po_id.not_in(_hidden_orders(actor))))
    return page_of(uow.conn, stmt, PageRequest(page.limit, page.offset, page.sort or "-id"),
                   SORTABLE)
