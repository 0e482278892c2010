"""Alerts raised by the rules: list, acknowledge, resolve."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter

from stockpilot.api.auth import Principal
from stockpilot.api.deps import Ctx, Operator, Page, Paged, Viewer, page_request, sort_query
from stockpilot.api.idempotency import Idem, Idempotency
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import In, Out, RowId, Text
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import alerts

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


ALERT_SORT = alerts.SORTABLE
AlertSort = Annotated[str, sort_query(list(ALERT_SORT), "-id")]
AlertStatus = Literal["open", "acked", "resolved"]


@router.get("/alerts")
def list_alerts(who: Viewer, ctx: Ctx, page: Paged, status: AlertStatus | None = None,
                rule: str | None = None, sku: str | None = None, location: str | None = None,
                sort: AlertSort = "-id") -> Page[AlertPublic]:
    """Alerts at the key's locations (filter by status, rule, SKU, location)."""
    with ctx.uow() as uow:
        rows, total = alerts.list_alerts(uow, who, page_request(page, sort), status=status,
                                         rule=rule, sku=sku, location=location)
    return Page(items=[AlertPublic(**r) for r in rows], limit=page.limit, offset=page.offset,
                total=total)


@router.get("/alerts/{alert_id}")
def get_alert(alert_id: RowId, who: Viewer, ctx: Ctx) -> AlertPublic:
    """One alert (404 outside the key's locations)."""
    with ctx.uow() as uow:
        return AlertPublic(**alerts.get_alert(uow, who, alert_id))


def _set(idem: Idempotency, body: AlertAction, alert_id: int, who: Principal, status: str
         ) -> Any:
    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        return 200, AlertPublic(**alerts.set_status(uow, who, alert_id, status))

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

