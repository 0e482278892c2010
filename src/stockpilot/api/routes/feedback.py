"""Shopper feedback on recommendations: batches of impressions, clicks, add-to-carts, purchases.

Idempotent by each event's id (a retried batch records nothing twice); a key limited to some
locations may record and read only theirs. The rates answer click-through and conversion by
model and position (or by experiment, variant, location).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from stockpilot.api.deps import Ctx, Operator, Viewer
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Out
from stockpilot.usecases import recommend_feedback as fb

router = APIRouter(prefix="/recommendations/feedback", tags=["recommendations"],
                   responses=COMMON)

EventId = Annotated[str, Field(min_length=1, max_length=160, pattern=r"^[^\s\x00]+$")]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00]+$")]


class FeedbackIn(In):
    """One event on a recommended item: ``position`` is its 1-based place in the served list."""

    event_id: EventId
    kind: Literal["impression", "click", "add_to_cart", "purchase"]
    sku: Ident
    location: Ident
    occurred_at: datetime
    customer_id: Ident | None = None
    model: Name | None = None
    experiment: Name | None = None
    variant: Name | None = None
    position: Annotated[int, Field(ge=1, le=1000)] | None = None
    value: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)] | None = Field(
        None, description="revenue of a purchase")


class FeedbackBatch(In):
    """Up to 1,000 events, recorded all or nothing."""

    events: Annotated[list[FeedbackIn], Field(min_length=1, max_length=fb.MAX_BATCH)]


class FeedbackRecorded(Out):
    """How many events were new and how many had been recorded before (same event id)."""

    recorded: int
    duplicates: int


class Rate(Out):
    """Counts and rates of one group."""

    model: str | None = None
    position: int | None = None
    experiment: str | None = None
    variant: str | None = None
    location: str | None = None
    impressions: int
    clicks: int
    add_to_carts: int
    purchases: int
    revenue: float
    ctr: float | None
    conversion: float | None


@router.post("", responses=WRITES)
def record(body: FeedbackBatch, who: Operator, ctx: Ctx, idem: Idem) -> FeedbackRecorded:
    """Record a batch of feedback events (a location outside the key's scope: 404, nothing kept)."""
    events = [fb.Feedback(**e.model_dump()) for e in body.events]

    def effect(uow):  # type: ignore[no-untyped-def]
        done = fb.record(uow.conn, events, who.locations)
        return 200, FeedbackRecorded(recorded=done.recorded, duplicates=done.duplicates)

    return idem.run(body, effect)  # type: ignore[return-value]


Group = Literal["model", "position", "experiment", "variant", "location"]
By = Annotated[list[Group], Query(description="group by these (default: model, position)")]


@router.get("/rates")
def rates(who: Viewer, ctx: Ctx, by: By = ["model", "position"]) -> list[Rate]:  # noqa: B006
    """CTR (clicks / impressions) and conversion (add-to-carts / impressions) per group."""
    with ctx.uow() as uow:
        return [Rate(**r) for r in fb.rates(uow, who, by)]
