"""``POST /events`` with one event: applied, or a problem naming why not, with nothing written.

A batch dead-letters what it cannot apply and answers 200 with a reason per event; a single
event is the synchronous case (a checkout posting its sale), so its rejection is the answer:
409 for insufficient stock (SKU, location, requested, available) or a reused event id, 422 for
an unknown SKU or location or a ledger rule (a missing lot). The rejection rolls back, so no
Idempotency-Key record is kept and a retry after the cause is fixed applies the event.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from stockpilot.api.auth import Principal
from stockpilot.api.idempotency import Idempotency
from stockpilot.api.problems import problem
from stockpilot.domain import commands as c
from stockpilot.errors import (
    EventConflict,
    InsufficientStock,
    InvalidEvent,
    UnknownLocation,
    UnknownSku,
)
from stockpilot.events.consumer import BatchResult, count
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import movements

#: Rejections of an event and their status; an unknown SKU/location is the event's fault
#: (422), not a missing resource of the URL (404).
REJECTIONS: dict[type[Exception], int] = {InsufficientStock: 409, EventConflict: 409,
                                          UnknownSku: 422, UnknownLocation: 422,
                                          InvalidEvent: 422}
_FACTS = ("event_id", "sku", "location", "requested", "available")


def command_of(event: BaseModel) -> c.LedgerCommand:
    """The ledger command of a validated wire event (as the consumer's parser builds it)."""
    fields = event.model_dump(exclude={"v"})
    return c.COMMAND_TYPES[fields.pop("kind")](**fields)


def event_problem(exc: Exception, event_id: str) -> JSONResponse:
    """The problem response of a rejected event, its facts as extension members."""
    status = REJECTIONS[type(exc)]
    facts = {k: getattr(exc, k) for k in _FACTS if getattr(exc, k, None) is not None}
    extra = {"event_id": event_id, **facts, "error_type": type(exc).__name__}
    return problem(status, getattr(exc, "title", "Invalid event"), str(exc), extra=extra)


def post_single(event: BaseModel, who: Principal, idem: Idempotency) -> Response:
    """Apply one event as ``who``; a rejection answers its problem and writes nothing."""
    cmd = command_of(event)

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        res = movements.post_one(uow, who, cmd)  # raises the typed rejection: rolled back
        return 200, {"event_id": res.event_id, "status": res.status,
                     "movements": res.movements}

    try:
        response = idem.run(event, effect)
    except tuple(REJECTIONS) as exc:
        return event_problem(exc, cmd.event_id)
    if response.headers.get("Idempotent-Replayed") is None:
        applied = bytes(response.body).find(b'"applied"') >= 0
        count("api", BatchResult(int(applied), int(not applied), 0))
    return response
