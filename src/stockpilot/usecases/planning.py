"""Planning runs, read: the latest plan's policies and suggestions, the latest forecast.

Reads go through the :class:`~stockpilot.store.artifacts.ArtifactStore` (one cache, typed
errors :class:`~stockpilot.store.artifacts.NoPlanYet` /
:class:`~stockpilot.store.artifacts.NoForecastYet`) and are limited to the actor's
locations here, once, for every edge.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from stockpilot.errors import NotFound
from stockpilot.store.artifacts import ArtifactStore, PlanRun
from stockpilot.usecases.actor import Actor
from stockpilot.usecases.paging import PageRequest, page_frame

POLICY_SORT = ["sku", "location", "supplier", "order_up_to", "service_level"]
SUGGESTION_SORT = ["sku", "location", "supplier", "order_qty", "order_value"]
FORECAST_SORT = ["sku", "location", "ds"]


def narrow(df: pl.DataFrame, actor: Actor, **equals: Any) -> pl.DataFrame:
    """Rows at the actor's locations whose columns equal the given (non-None) values."""
    if actor.locations is not None:
        df = df.filter(pl.col("location").is_in(actor.scope() or []))
    for col, value in equals.items():
        if value is not None:
            df = df.filter(pl.col(col) == value)
    return df


def latest_plan(artifacts: ArtifactStore, actor: Actor) -> PlanRun:
    """The latest plan, only the rows at the actor's locations (same run id)."""
    plan = artifacts.plan()
    return PlanRun(plan.run_id, narrow(plan.frame, actor))


def policies(artifacts: ArtifactStore, actor: Actor, page: PageRequest, *,
             sku: str | None = None, location: str | None = None,
             supplier: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Policy parameters of the latest plan at the actor's locations: one page, the total."""
    df = narrow(artifacts.plan().frame, actor, sku=sku, location=location, supplier=supplier)
    return page_frame(df, page, POLICY_SORT)


def suggestions(artifacts: ArtifactStore, actor: Actor, page: PageRequest, *,
                sku: str | None = None, location: str | None = None,
                supplier: str | None = None, due_only: bool = True
                ) -> tuple[list[dict[str, Any]], int]:
    """Order suggestions of the latest plan (only those due, by default): a page, the total."""
    df = narrow(artifacts.plan().frame, actor, sku=sku, location=location, supplier=supplier)
    if due_only:
        df = df.filter(pl.col("order_qty") > 0)
    return page_frame(df, page, SUGGESTION_SORT)


def due_by_supplier(artifacts: ArtifactStore, actor: Actor
                    ) -> dict[str, list[dict[str, Any]]]:
    """Today's due suggestions at the actor's locations by supplier, largest value first.

    Empty when there is no plan yet.
    """
    try:
        plan = latest_plan(artifacts, actor).frame
    except NotFound:
        return {}
    due = plan.filter(pl.col("order_qty") > 0)
    out: dict[str, list[dict[str, Any]]] = {}
    for r in due.sort("supplier", "order_value", descending=[False, True]).iter_rows(named=True):
        out.setdefault(r["supplier"], []).append(r)
    return out


def forecasts(artifacts: ArtifactStore, actor: Actor, page: PageRequest, *,
              sku: str | None = None, location: str | None = None
              ) -> tuple[list[dict[str, Any]], int]:
    """The latest forecast at the actor's locations: one page of rows, the total."""
    df = narrow(artifacts.forecast(), actor, sku=sku, location=location)
    return page_frame(df, page, FORECAST_SORT)


def forecast_of(artifacts: ArtifactStore, actor: Actor, sku: str) -> list[dict[str, Any]]:
    """The latest forecast of one SKU at each visible location (:class:`NotFound`: none)."""
    df = narrow(artifacts.forecast(), actor, sku=sku)
    if df.is_empty():
        raise NotFound(f"no forecast for SKU {sku!r}")
    return df.sort("location", "ds").to_dicts()
