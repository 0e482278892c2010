"""Plans: policy parameters per SKU-location, purchase-order suggestions and their approval."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from stockpilot.api.deps import Ctx, Page, Paged, Planner, Viewer, page_request, sort_query
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Out
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import planning, suggestions
from stockpilot.usecases.alert_refresh import refresh_after_approval
from stockpilot.usecases.money import currencies

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


POLICY_SORT = planning.POLICY_SORT
PolicySort = Annotated[str, sort_query(POLICY_SORT, "sku,location")]
SUGGESTION_SORT = planning.SUGGESTION_SORT
SuggestionSort = Annotated[str, sort_query(SUGGESTION_SORT, "-order_value")]


@router.get("/policies")
def list_policies(who: Viewer, ctx: Ctx, paging: Paged, sku: str | None = None,
                  location: str | None = None, supplier: str | None = None,
                  sort: PolicySort = "sku,location") -> Page[PolicyPublic]:
    """Policy parameters from the latest plan at the key's locations."""
    rows, total = planning.policies(ctx.artifacts, who, page_request(paging, sort), sku=sku,
                                    location=location, supplier=supplier)
    return Page(items=[PolicyPublic(**r) for r in rows], limit=paging.limit,
                offset=paging.offset, total=total)


@router.get("/suggestions")
def list_suggestions(who: Viewer, ctx: Ctx, paging: Paged, sku: str | None = None,
                     location: str | None = None, supplier: str | None = None,
                     due_only: bool = True, sort: SuggestionSort = "-order_value"
                     ) -> Page[SuggestionPublic]:
    """Purchase-order suggestions of the latest plan (only those due, by default)."""
    rows, total = planning.suggestions(ctx.artifacts, who, page_request(paging, sort),
                                       sku=sku, location=location, supplier=supplier,
                                       due_only=due_only)
    money = currencies(ctx.settings, ctx.history)  # values rounded to the minor unit
    return Page(items=[SuggestionPublic(**{**r, "order_value": money.number(
        r.get("order_value"), r.get("supplier"))}) for r in rows], limit=paging.limit,
                offset=paging.offset, total=total)


class ApproveIn(In):
    """Which suggestions to approve (default: every supplier's due lines).

    ``as_of`` is accepted for compatibility and ignored: approval is idempotent by the plan
    lines approved (plan run + SKU-location), not by a date.
    """

    suppliers: Annotated[list[Ident] | None, Field(max_length=1000)] = None
    as_of: date | None = None


class ApproveOut(Out):
    """The purchase orders holding the approved lines.

    Created now, or by an earlier approval of the same plan lines.
    """

    purchase_orders: list[int]


@router.post("/suggestions/approve")
def approve(body: ApproveIn, who: Planner, ctx: Ctx, idem: Idem) -> ApproveOut:
    """Turn due suggestions into purchase orders, one per supplier (once per plan line).

    A key limited to locations approves only the lines at its locations; lines of this plan
    approved before are not ordered again (their orders are answered).
    """
    plan = ctx.artifacts.plan()

    created: list[int] = []

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        done = suggestions.approve(uow, who, plan, suppliers=body.suppliers, empty_ok=True,
                                   currency=ctx.settings.purchasing.currency)
        created.extend(done.purchase_orders)
        return 200, ApproveOut(purchase_orders=done.purchase_orders)

    out = idem.run(body, effect)
    if created:  # after the commit: the alerts these orders answer are re-checked
        refresh_after_approval(ctx.engine, ctx.history, created)
    return out  # type: ignore[return-value]
