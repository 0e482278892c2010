"""Alerts as an actor sees them: list, one by id, acknowledge or resolve, history.

An alert at a location outside the actor's scope does not exist for it (404). Raising
alerts (the rules, dedup, cooldown, notifiers) is :mod:`stockpilot.alerts.service`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stockpilot.alerts.service import set_status as record_status
from stockpilot.errors import NotFound
from stockpilot.store import schema_events as te
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, require
from stockpilot.usecases.paging import PageRequest, page_of

A = te.alerts.c
SORTABLE = {"id": A.id, "created_at": A.created_at, "updated_at": A.updated_at,
            "severity": A.severity, "sku": A.sku}
STATUSES = {"open": ("open", "acked"), "all": ("open", "acked", "resolved"),
            "resolved": ("resolved",)}
SEVERITY = {"critical": 0, "warning": 1}
ACTIONS = {"ack": "acked", "resolve": "resolved"}


def _scoped(stmt: Any, actor: Actor) -> Any:
    return stmt if actor.locations is None else stmt.where(A.location.in_(actor.scope() or []))


def get_alert(uow: UnitOfWork, actor: Actor, alert_id: int) -> dict[str, Any]:
    """One alert (:class:`NotFound` when absent or outside the actor's locations)."""
    row = uow.conn.execute(select(te.alerts).where(A.id == alert_id)).first()
    if row is None or not actor.sees(row.location):
        raise NotFound(f"no alert {alert_id}")
    return dict(row._mapping)


def list_alerts(uow: UnitOfWork, actor: Actor, page: PageRequest, *,
                status: str | None = None, rule: str | None = None, sku: str | None = None,
                location: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Alerts at the actor's locations, filtered: one page and the total."""
    stmt = _scoped(select(te.alerts), actor)
    for col, value in ((A.status, status), (A.rule, rule), (A.sku, sku),
                       (A.location, location)):
        if value is not None:
            stmt = stmt.where(col == value)
    return page_of(uow.conn, stmt, page, SORTABLE)


def board(uow: UnitOfWork, actor: Actor, status: str = "open", limit: int = 500
          ) -> list[dict[str, Any]]:
    """The dashboard's list: ``open`` (and acked), ``resolved`` or ``all``; critical first."""
    stmt = _scoped(select(te.alerts).where(A.status.in_(STATUSES.get(status,
                                                                      STATUSES["open"]))), actor)
    rows = [dict(r._mapping) for r in uow.conn.execute(stmt.order_by(A.id.desc()).limit(limit))]
    return sorted(rows, key=lambda r: SEVERITY.get(r["severity"], 9))


def set_status(uow: UnitOfWork, actor: Actor, alert_id: int, status: str) -> dict[str, Any]:
    """Acknowledge (``acked``) or resolve (``resolved``) an alert; returns it afterwards."""
    require(actor, "planner")
    get_alert(uow, actor, alert_id)
    record_status(uow.conn, alert_id, status, actor.name or None)
    return get_alert(uow, actor, alert_id)


def timeline(uow: UnitOfWork, actor: Actor) -> list[Any]:
    """Every alert's location, status and times at the actor's locations (for trends)."""
    rows = uow.conn.execute(select(A.location, A.status, A.created_at, A.updated_at)).all()
    return [r for r in rows if actor.sees(r.location)]
