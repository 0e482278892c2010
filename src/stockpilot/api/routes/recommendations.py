"""Stock-aware recommendations from the trained model, against live positions at a location.

Every answer lists only items available at the fulfilment location now (unavailable ones are
filtered out or replaced by their nearest available substitute). 404 when no model is trained.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from stockpilot.api.auth import Principal
from stockpilot.api.context import ApiContext
from stockpilot.api.deps import Ctx, Viewer, fast_json, visible
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Out
from stockpilot.recommend import service as rec
from stockpilot.usecases import recommendations

router = APIRouter(prefix="/recommendations", tags=["recommendations"], responses=COMMON)

K = Annotated[int, Query(ge=1, le=100)]
Location = Annotated[str | None, Query(max_length=64,
                                       description="Fulfilment location (default: settings)")]


class Recommended(Out):
    """One recommended item and its available units at the location."""

    sku: str
    available: int


class Recommendations(Out):
    """Recommendations at one location, best first."""

    location: str
    items: list[Recommended]


class BasketIn(In):
    """Items in a basket; answers what is bought with them."""

    skus: Annotated[list[Ident], Field(min_length=1, max_length=100)]
    location: Ident | None = None
    k: Annotated[int, Field(ge=1, le=100)] = 10


def _serve(ctx: ApiContext, who: Principal, location: str | None, pick: Any
           ) -> Recommendations:
    loc = location or ctx.settings.default_location
    visible(who, loc, what="location")
    trained = ctx.recommender()
    with ctx.uow() as uow:
        available = recommendations.available_items(uow, who, loc, trained.items)
    skus = pick(trained, available)
    return Recommendations(location=loc, items=[Recommended(sku=s, available=available[s])
                                                for s in skus])


def _fast(model: Recommendations) -> Recommendations:
    return fast_json(model)  # type: ignore[return-value]


@router.get("/customers/{customer_id}")
def for_customer(customer_id: str, who: Viewer, ctx: Ctx, location: Location = None,
                 k: K = 10, mode: Literal["substitute", "filter"] = "substitute"
                 ) -> Recommendations:
    """Top items for a customer, in stock at the location (popular ones when unknown)."""
    return _fast(_serve(ctx, who, location,
                        lambda m, av: rec.for_customer(m, customer_id, av, k, mode)))


@router.get("/similar/{sku}")
def similar(sku: str, who: Viewer, ctx: Ctx, location: Location = None, k: K = 10
            ) -> Recommendations:
    """In-stock items most like ``sku`` (404 when the model does not know it)."""
    return _serve(ctx, who, location, lambda m, av: rec.similar_items(m, sku, av, k))


@router.get("/popular")
def popular(who: Viewer, ctx: Ctx, location: Location = None, k: K = 10) -> Recommendations:
    """The most popular items in stock at the location."""
    return _serve(ctx, who, location, lambda m, av: rec.popular_in_stock(m, av, k))


@router.post("/basket", responses=WRITES)
def basket(body: BasketIn, who: Viewer, ctx: Ctx, idem: Idem) -> Recommendations:
    """In-stock items most often bought with the basket, not in it."""
    out = _serve(ctx, who, body.location,
                 lambda m, av: rec.bought_together(m, body.skus, av, body.k))
    return idem.run(body, lambda _uow: (200, out))  # type: ignore[return-value]
