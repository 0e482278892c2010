"""Alerts raised by the rules: list, acknowledge, resolve."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from sqlalchemy import Connection, select

from stockpilot.alerts.service import set_status_in
from stockpilot.api.auth import Principal
from stockpilot.api.deps import (
    Ctx,
    Operator,
    Page,
    Paged,
    Viewer,
    order_by,
    page_of,
    scoped,
    sort_query,
)
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import In, Out, RowId, Text
from stockpilot.errors import NotFound
from stockpilot.store import schema_events as te

router = APIRouter(tags=["alerts"], responses={**COMMON, **WRITES})


class AlertPublic(Out):
    """One alert."""

    id: int
    rule: str
    sku: str
    location: str
    severity: str
    message: str
    status: str
    created_at: datetime
    updated_at: datetime


class AlertAction(In):
    """An optional note (not stored yet)."""

    note: Text | None = None


A = te.alerts.c
ALERT_SORT = {"id": A.id, "created_at": A.created_at, "updated_at": A.updated_at,
              "severity": A.severity, "sku": A.sku}
AlertSort = Annotated[str, sort_query(list(ALERT_SORT), "-id")]
AlertStatus = Literal["open", "acked", "resolved"]


def _get(conn: Connection, alert_id: int, who: Principal) -> AlertPublic:
    row = conn.execute(select(te.alerts).where(A.id == alert_id)).first()
    if row is None or not who.sees(row.location):
        raise NotFound(f"no alert {alert_id}")
    return AlertPublic(**row._mapping)


@router.get("/alerts")
def list_alerts(who: Viewer, ctx: Ctx, page: Paged, status: AlertStatus | None = None,
                rule: str | None = None, sku: str | None = None, location: str | None = None,
                sort: AlertSort = "-id") -> Page[AlertPublic]:
    """Alerts at the key's locations (filter by status, rule, SKU, location)."""
    stmt = scoped(select(te.alerts), who, A.location)
    for col, value in ((A.status, status), (A.rule, rule), (A.sku, sku),
                       (A.location, location)):
        if value is not None:
            stmt = stmt.where(col == value)
    with ctx.read() as conn:
        rows, total = page_of(conn, stmt, page, order_by(sort, ALERT_SORT))
    return Page(items=[AlertPublic(**r) for r in rows], limit=page.limit, offset=page.offset,
                total=total)


@router.get("/alerts/{alert_id}")
def get_alert(alert_id: RowId, who: Viewer, ctx: Ctx) -> AlertPublic:
    """One alert (404 outside the key's locations)."""
    with ctx.read() as conn:
        return _get(conn, alert_id, who)


def _set(idem: Any, body: AlertAction, alert_id: int, who: Principal, status: str) -> Any:
    def effect(conn: Connection) -> tuple[int, Any]:
        _get(conn, alert_id, who)
        set_status_in(conn, alert_id, status)
        return 200, _get(conn, alert_id, who)

    return idem.run(body, effect)


@router.post("/alerts/{alert_id}/ack")
def ack_alert(alert_id: RowId, body: AlertAction, who: Operator, idem: Idem) -> AlertPublic:
    """Acknowledge an alert (someone is on it)."""
    return _set(idem, body, alert_id, who, "acked")  # type: ignore[no-any-return]


@router.post("/alerts/{alert_id}/resolve")
def resolve_alert(alert_id: RowId, body: AlertAction, who: Operator, idem: Idem
                  ) -> AlertPublic:
    """Resolve an alert (it may be raised again after the cooldown)."""
    return _set(idem, body, alert_id, who, "resolved")  # type: ignore[no-any-return]

