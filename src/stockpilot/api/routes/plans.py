"""Plans: policy parameters per SKU-location, purchase-order suggestions and their approval."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy import Connection

from stockpilot.api.deps import Ctx, Page, Paged, Planner, Viewer, sort_query
from stockpilot.api.frames import latest, narrow, page
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Out
from stockpilot.jobs.plan import approve_in
from stockpilot.usecases.alert_refresh import refresh_after_approval

router = APIRouter(tags=["plans"], responses={**COMMON, **WRITES})


class PolicyPublic(Out):
    """The plan's parameters for one SKU-location (order-up-to policy with review R)."""

    sku: str
    location: str
    supplier: str | None
    klass: str | None
    service_level: float | None
    protection_days: int | None
    p50: int | None
    mean: float | None
    safety_stock: int | None
    order_up_to: int | None
    reorder_point: int | None = None
    method: str | None = None
    flags: list[str] = Field(default_factory=list, description="plausibility flags, e.g. "
                             "order-up-to-above-past-max (order-up-to above 1.5 × the largest "
                             "protection-interval demand of the past year)")


class SuggestionPublic(Out):
    """A suggested order line with the arithmetic behind it."""

    sku: str
    location: str
    supplier: str | None
    on_hand: int | None
    on_order: int | None
    reserved: int | None
    inventory_position: int | None
    need: int | None
    order_qty: int
    order_value: float | None
    reason: str
    flags: list[str] = Field(default_factory=list, description="plausibility flags (see "
                             "policies)")


POLICY_SORT = ["sku", "location", "supplier", "order_up_to", "service_level"]
PolicySort = Annotated[str, sort_query(POLICY_SORT, "sku,location")]
SUGGESTION_SORT = ["sku", "location", "supplier", "order_qty", "order_value"]
SuggestionSort = Annotated[str, sort_query(SUGGESTION_SORT, "-order_value")]


@router.get("/policies")
def list_policies(who: Viewer, ctx: Ctx, paging: Paged, sku: str | None = None,
                  location: str | None = None, supplier: str | None = None,
                  sort: PolicySort = "sku,location") -> Page[PolicyPublic]:
    """Policy parameters from the latest plan at the key's locations."""
    df = narrow(latest(ctx.history, "plans", "plan"), who, sku=sku, location=location,
                supplier=supplier)
    rows, total = page(df, paging, sort, POLICY_SORT)
    return Page(items=[PolicyPublic(**r) for r in rows], limit=paging.limit,
                offset=paging.offset, total=total)


@router.get("/suggestions")
def list_suggestions(who: Viewer, ctx: Ctx, paging: Paged, sku: str | None = None,
                     location: str | None = None, supplier: str | None = None,
                     due_only: bool = True, sort: SuggestionSort = "-order_value"
                     ) -> Page[SuggestionPublic]:
    """Purchase-order suggestions of the latest plan (only those due, by default)."""
    import polars as pl

    df = narrow(latest(ctx.history, "plans", "plan"), who, sku=sku, location=location,
                supplier=supplier)
    if due_only:
        df = df.filter(pl.col("order_qty") > 0)
    rows, total = page(df, paging, sort, SUGGESTION_SORT)
    return Page(items=[SuggestionPublic(**r) for r in rows], limit=paging.limit,
                offset=paging.offset, total=total)


class ApproveIn(In):
    """Which suggestions to approve (default: every supplier's due lines)."""

    suppliers: Annotated[list[Ident] | None, Field(max_length=1000)] = None
    as_of: date | None = None


class ApproveOut(Out):
    """The purchase orders created (or found, when approved before on that day)."""

    purchase_orders: list[int]


@router.post("/suggestions/approve")
def approve(body: ApproveIn, who: Planner, ctx: Ctx, idem: Idem) -> ApproveOut:
    """Turn due suggestions into purchase orders, one per supplier (once per day).

    A key limited to locations approves only the lines at its locations.
    """
    plan = latest(ctx.history, "plans", "plan")

    created: list[int] = []

    def effect(conn: Connection) -> tuple[int, Any]:
        ids = approve_in(conn, plan, body.suppliers, body.as_of, who.locations)
        created.extend(ids)
        return 200, ApproveOut(purchase_orders=ids)

    out = idem.run(body, effect)
    if created:  # after the commit: the alerts these orders answer are re-checked
        refresh_after_approval(ctx.engine, ctx.history, created)
    return out  # type: ignore[return-value]
