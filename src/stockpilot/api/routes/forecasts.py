"""Forecasts: the latest run's quantiles per SKU-location and day."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter

from stockpilot.api.deps import Ctx, Page, Paged, Viewer, page_request, sort_query
from stockpilot.api.problems import COMMON
from stockpilot.api.schemas import Out
from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.usecases import planning

router = APIRouter(tags=["forecasts"], responses=COMMON)


class ForecastPublic(Out):
    """One SKU-location-day of a forecast: mean and quantiles keyed by level ("0.975")."""

    sku: str
    location: str
    ds: date
    model: str | None
    mean: float | None
    quantiles: dict[str, float | None]


def _public(r: dict[str, Any]) -> ForecastPublic:
    return ForecastPublic(sku=r["sku"], location=r["location"], ds=r["ds"],
                          model=r.get("model"), mean=r.get("mean"),
                          quantiles={f"{q:g}": r.get(qcol(q)) for q in QUANTILES})


SORT = planning.FORECAST_SORT
FcSort = Annotated[str, sort_query(SORT, "sku,location,ds")]


@router.get("/forecasts")
def list_forecasts(who: Viewer, ctx: Ctx, paging: Paged, sku: str | None = None,
                   location: str | None = None, sort: FcSort = "sku,location,ds"
                   ) -> Page[ForecastPublic]:
    """The latest forecast at the key's locations (filter by SKU, location)."""
    rows, total = planning.forecasts(ctx.artifacts, who, page_request(paging, sort), sku=sku,
                                     location=location)
    return Page(items=[_public(r) for r in rows], limit=paging.limit, offset=paging.offset,
                total=total)


@router.get("/forecasts/{sku}")
def forecast_of(sku: str, who: Viewer, ctx: Ctx) -> list[ForecastPublic]:
    """The latest quantile forecast of one SKU at each visible location (404 when none)."""
    return [_public(r) for r in planning.forecast_of(ctx.artifacts, who, sku)]
