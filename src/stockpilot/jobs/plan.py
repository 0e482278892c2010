"""``stockpilot plan``: the planning run around pure code.

Loads positions (sellable: expired lots excluded), supplier terms, classes, shelf lives, lots
and learned lead times from the database and the latest forecast run from the history store,
calls the one pipeline :func:`stockpilot.planning.pipeline.build_plan` and writes its plan to
``plans/latest``. Approving them into purchase orders is a use case
(:func:`stockpilot.usecases.purchasing.approve_plan`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING
from typing import cast as type_cast

import polars as pl

from stockpilot.domain.series import split_unique_id
from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILE_COLUMNS as QCOLS_NINE
from stockpilot.forecast.data import prepare, to_long
from stockpilot.planning.classes import abc_xyz, service_matrix
from stockpilot.planning.demand_laws import LEVELS
from stockpilot.planning.pipeline import PlanInputs, PlanOptions, build_plan
from stockpilot.planning.suggestions import prioritise
from stockpilot.planning.supplier_leadtime import (
    demand_over_random_lead_time,
    lead_time_for,
    lead_time_pmfs,
)
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import reading
from stockpilot.usecases.leadtimes import load_receipts
from stockpilot.usecases.overrides import load_overrides
from stockpilot.usecases.plan_inputs import (
    load_positions,
    load_terms,
    sellable_lots,
    series_prices,
    shelf_lives,
)
from stockpilot.usecases.sourcing import load_sourcing, with_dc_series
from stockpilot.usecases.transit import in_transit

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine


def run_plan(engine: Engine, history: HistoryStore, *, review_days: int = 7,
             class_window_days: int = 91, budgets: dict[str, float] | None = None,
             holding_rate: float = 0.25, method_window_days: int = 365,
             as_of: date | None = None,
             sourcing_routes: Mapping[str, str] | None = None,
             service_levels: Mapping[str, float] | None = None) -> pl.DataFrame:
    """Load the inputs, call :func:`stockpilot.planning.pipeline.build_plan`, write the plan.

    ``as_of`` (default: the day after the demand history ends) dates expired lots. With
    ``budgets`` (per supplier) lines are ranked by marginal value and those over budget
    deferred. Writes and returns ``plans/latest``; nothing is written when planning fails.
    """
    inputs, day = load_inputs(engine, history, review_days=review_days,
                              class_window_days=class_window_days, as_of=as_of,
                              sourcing_routes=sourcing_routes, service_levels=service_levels)
    plan = build_plan(inputs, PlanOptions(as_of=day, review_days=review_days,
                                          class_window_days=method_window_days))
    if budgets:
        with reading(engine) as uow:
            prices = series_prices(uow.conn, plan)
        plan = prioritise(plan, plan.select("unique_id", *QCOLS_NINE), prices, budgets,
                          holding_rate)
    history.write("plans", "latest", plan)
    return plan


def load_inputs(engine: Engine, history: HistoryStore, *, review_days: int = 7,
                class_window_days: int = 91, as_of: date | None = None,
                sourcing_routes: Mapping[str, str] | None = None,
                service_levels: Mapping[str, float] | None = None
                ) -> tuple[PlanInputs, date]:
    """The pipeline's frames from the database and the history store, as of ``as_of``.

    With a sourcing network (``sourcing_routes`` from ``[sourcing]`` over the imported
    routes), each DC gets a plan line for every SKU its stores carry; positions count
    transfers in transit.
    """
    if not {"latest", "cv"} <= set(history.parts("forecasts")):
        raise StockpilotError("no forecasts yet: run `stockpilot forecast` first")
    forecast = history.read("forecasts", "latest")
    cv = history.read("forecasts", "cv")
    hist = prepare(to_long(history.daily())).df
    day = as_of or (type_cast(date, hist["ds"].max()) + timedelta(days=1))
    with reading(engine) as uow:
        sourcing = load_sourcing(uow.conn, sourcing_routes)
        ids = with_dc_series(forecast.select("unique_id", "sku", "location").unique(), sourcing)
        terms = ids.join(load_terms(uow.conn), on="sku", how="inner")
        if terms.is_empty():
            raise StockpilotError("no supplier terms for the forecast SKUs: import "
                                  "supplier-items")
        overrides = load_overrides(uow.conn, terms["unique_id"])
        stock = load_positions(uow.conn, day)
        positions = stock.join(ids.select("unique_id"), on="unique_id", how="semi").join(
            in_transit(uow.conn), on="unique_id", how="left").with_columns(
            pl.col("in_transit").fill_null(0))
        shelf, lots = _shelf_life_and_lots(uow.conn, stock, day)
        prices = series_prices(uow.conn, hist.select("unique_id").unique())
    inputs = PlanInputs(
        history=hist, forecast=forecast, cv=cv, positions=positions, sourcing=sourcing,
        terms=terms.drop("sku", "location"),
        service=_classes(hist, prices, class_window_days, service_levels),
        overrides=overrides,
        shelf_life=shelf, lots=lots,
        extra_laws=_learned_lead_time_laws(engine, hist, terms, review_days))
    return inputs, day


def _learned_lead_time_laws(engine: Engine, hist: pl.DataFrame, terms: pl.DataFrame,
                            review_days: int, window_days: int = 365) -> pl.DataFrame | None:
    """Demand over the lead time learned from receipts, where there are receipts (else None)."""
    with reading(engine) as uow:
        receipts = load_receipts(uow)
    if receipts.is_empty():
        return None
    lead = lead_time_for(lead_time_pmfs(receipts), terms.select(
        "unique_id", "supplier", "sku", "lead_time_days"))
    if lead.is_empty():
        return None
    recent = hist.filter(pl.col("ds") > hist["ds"].max() - pl.duration(days=window_days))
    learned = demand_over_random_lead_time(recent.join(lead, on="unique_id", how="semi"), lead,
                                           review_days=review_days, levels=LEVELS)
    source = lead.group_by("unique_id").agg(pl.col("source", "n_receipts").first())
    return learned.join(source, on="unique_id").with_columns(
        pl.format("lead time learned from {} receipts ({}), blended with the stated one",
                  pl.col("n_receipts"), pl.col("source")).alias("method"),
        (pl.col("mean_lead_time_days").round().cast(pl.Int64) + review_days).alias("days"),
        pl.col("mean_lead_time_days").round().cast(pl.Int64).alias("lead_time_days"))


def _shelf_life_and_lots(conn: Connection, stock: pl.DataFrame, today: date
                         ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Shelf life per series in ``stock`` and its sellable lots (expiring after ``today``)."""
    shelf = stock.select("unique_id", split_unique_id()[0]).join(
        shelf_lives(conn), on="sku").select("unique_id", "shelf_life_days")
    return shelf, sellable_lots(conn, today)


def _classes(hist: pl.DataFrame, prices: pl.DataFrame, window: int,
             service_levels: Mapping[str, float] | None = None) -> pl.DataFrame:
    """ABC×XYZ classes; ``service_levels`` (``[service_levels]``) overrides the matrix."""
    end = hist["ds"].max()
    recent = hist.filter(pl.col("ds") > end - pl.duration(days=window))
    price = recent.select("unique_id").unique().join(prices, on="unique_id", how="left")
    return abc_xyz(recent, price, matrix=service_matrix(service_levels))
