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
from stockpilot.usecases import recommend_experiments as experiments
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
    model: str | None = Field(None, description="the model that ranked the items")
    experiment: str | None = Field(None, description="the running A/B test, if it chose")
    variant: str | None = Field(None, description="the customer's variant in that test")


class BasketIn(In):
    """Items in a basket; answers what is bought with them."""

    skus: Annotated[list[Ident], Field(min_length=1, max_length=100)]
    location: Ident | None = None
    k: Annotated[int, Field(ge=1, le=100)] = 10


def _serve(ctx: ApiContext, who: Principal, location: str | None, pick: Any,
           model: str | None = None, **chosen: str | None) -> Recommendations:
    loc = location or ctx.settings.default_location
    visible(who, loc, what="location")
    trained = ctx.recommender(model)
    with ctx.uow() as uow:
        available = recommendations.available_items(uow, who, loc, trained.items)
    skus = pick(trained, available)
    return Recommendations(location=loc, items=[Recommended(sku=s, available=available[s])
                                                for s in skus], model=trained.name, **chosen)


def _fast(model: Recommendations) -> Recommendations:
    return fast_json(model)  # type: ignore[return-value]


Model = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_]+$",
                                    description="A trained model (default: settings)")]


@router.get("/customers/{customer_id}")
def for_customer(customer_id: str, who: Viewer, ctx: Ctx, location: Location = None,
                 k: K = 10, mode: Literal["substitute", "filter", "boost"] | None = None,
                 model: Model = None) -> Recommendations:
    """Top items for a customer, in stock at the location (popular ones when unknown).

    Without ``model``, a running A/B test chooses the model and the re-ranking mode by the
    customer's variant; otherwise the settings' model and mode serve.
    """
    chosen: dict[str, str | None] = {}
    weight = ctx.settings.recommend.boost_weight
    hit = None
    if model is None:
        with ctx.uow() as uow:
            hit = experiments.variant_for(uow, customer_id)
    if hit:
        chosen = {"experiment": hit[0], "variant": hit[1].name}
        model, mode = hit[1].model, mode or hit[1].mode  # type: ignore[assignment]
        weight = float(hit[1].params.get("boost_weight", weight))
    how = mode or ctx.settings.recommend.mode
    loc = location or ctx.settings.default_location

    def pick(m: Any, av: dict[str, int]) -> list[str]:
        over = (recommendations.overstock_at(ctx.artifacts, who, loc, av) if how == "boost"
                else None)
        return rec.recommend(m, customer_id, av, k, how, over, weight)

    return _fast(_serve(ctx, who, location, pick, model, **chosen))


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
