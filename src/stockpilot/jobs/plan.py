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
from typing import Any
from typing import cast as type_cast

import polars as pl
from sqlalchemy import Engine, Executable, select

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
from stockpilot.store import schema as t
from stockpilot.store.history import HistoryStore
from stockpilot.usecases.leadtimes import load_receipts
from stockpilot.usecases.overrides import load_overrides
from stockpilot.usecases.sourcing import load_sourcing, with_dc_series
from stockpilot.usecases.transit import in_transit


def _frame(engine: Engine, query: Executable, schema: Mapping[str, Any]) -> pl.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pl.DataFrame(rows, schema=schema, orient="row")


def load_terms(engine: Engine) -> pl.DataFrame:
    """Primary supplier terms per SKU: ``sku, supplier, lead_time_days, moq, pack_size, …``."""
    si = t.supplier_items.c
    q = select(si.sku, si.supplier, si.lead_time_days, si.moq, si.pack_size, si.unit_cost,
               si.order_cost).where(si.is_primary.is_(True))
    return _frame(engine, q, {"sku": pl.Utf8, "supplier": pl.Utf8, "lead_time_days": pl.Int64,
                              "moq": pl.Int64, "pack_size": pl.Int64, "unit_cost": pl.Float64,
                              "order_cost": pl.Float64}).unique("sku", keep="first")


def load_positions(engine: Engine, today: date | None = None) -> pl.DataFrame:
    """``unique_id, on_hand, on_order, reserved, expired`` for every stock row.

    ``expired`` is what lies in lots whose expiry is on or before ``today`` (default: the
    calendar day): it is on hand but not sellable, so the plan does not count it.
    """
    s, lot = t.stock.c, t.lots.c
    df = _frame(engine, select(s.sku, s.location, s.on_hand, s.on_order, s.reserved),
                {"sku": pl.Utf8, "location": pl.Utf8, "on_hand": pl.Int64, "on_order": pl.Int64,
                 "reserved": pl.Int64})
    gone = _frame(engine, select(lot.sku, lot.location, lot.on_hand).where(
        lot.on_hand > 0, lot.expiry.is_not(None), lot.expiry <= (today or date.today())),
        {"sku": pl.Utf8, "location": pl.Utf8, "expired": pl.Int64})
    gone = gone.group_by("sku", "location").agg(pl.col("expired").sum())
    return df.join(gone, on=["sku", "location"], how="left").select(
        (pl.col("sku") + "@" + pl.col("location")).alias("unique_id"),
        "on_hand", "on_order", "reserved", pl.col("expired").fill_null(0))


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
        plan = prioritise(plan, plan.select("unique_id", *QCOLS_NINE), sku_prices(engine, plan),
                          budgets, holding_rate)
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
    with engine.connect() as conn:
        sourcing = load_sourcing(conn, sourcing_routes)
        transit = in_transit(conn)
    ids = with_dc_series(forecast.select("unique_id", "sku", "location").unique(), sourcing)
    terms = ids.join(load_terms(engine), on="sku", how="inner")
    with engine.connect() as conn:
        overrides = load_overrides(conn, terms["unique_id"])
    if terms.is_empty():
        raise StockpilotError("no supplier terms for the forecast SKUs: import supplier-items")
    shelf, lots = _shelf_life_and_lots(engine, day)
    inputs = PlanInputs(
        history=hist, forecast=forecast, cv=cv,
        positions=load_positions(engine, day).join(ids.select("unique_id"), on="unique_id",
                                                   how="semi").join(
            transit, on="unique_id", how="left").with_columns(pl.col("in_transit").fill_null(0)),
        sourcing=sourcing,
        terms=terms.drop("sku", "location"),
        service=_classes(engine, hist, class_window_days, service_levels),
        overrides=overrides,
        shelf_life=shelf, lots=lots,
        extra_laws=_learned_lead_time_laws(engine, hist, terms, review_days))
    return inputs, day


def _learned_lead_time_laws(engine: Engine, hist: pl.DataFrame, terms: pl.DataFrame,
                            review_days: int, window_days: int = 365) -> pl.DataFrame | None:
    """Demand over the lead time learned from receipts, where there are receipts (else None)."""
    receipts = load_receipts(engine)
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


def _shelf_life_and_lots(engine: Engine, today: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Shelf life per series and its sellable lots (expiring after ``today``)."""
    s, lot = t.skus.c, t.lots.c
    shelf = _frame(engine, select(s.sku, s.shelf_life_days).where(s.shelf_life_days.is_not(None)),
                   {"sku": pl.Utf8, "shelf_life_days": pl.Int64})
    stock = load_positions(engine, today).select("unique_id").with_columns(
        pl.col("unique_id").str.split("@").list.first().alias("sku"))
    shelf = stock.join(shelf, on="sku").select("unique_id", "shelf_life_days")
    lots = _frame(engine, select(lot.sku, lot.location, lot.on_hand, lot.expiry)
                  .where(lot.on_hand > 0, lot.expiry.is_not(None), lot.expiry > today),
                  {"sku": pl.Utf8, "location": pl.Utf8, "qty": pl.Int64, "expiry": pl.Date})
    lots = lots.select((pl.col("sku") + "@" + pl.col("location")).alias("unique_id"),
                       pl.col("qty").cast(pl.Float64),
                       (pl.col("expiry") - pl.lit(today)).dt.total_days().alias("days_to_expiry"))
    return shelf, lots


def sku_prices(engine: Engine, plan: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, price`` for the series in ``plan`` (from the SKU catalogue)."""
    prices = _frame(engine, select(t.skus.c.sku, t.skus.c.price),
                    {"sku": pl.Utf8, "price": pl.Float64})
    return plan.select("unique_id").with_columns(
        pl.col("unique_id").str.split("@").list.first().alias("sku")).join(
        prices, on="sku", how="left").select("unique_id", "price")


def _classes(engine: Engine, hist: pl.DataFrame, window: int,
             service_levels: Mapping[str, float] | None = None) -> pl.DataFrame:
    """ABC×XYZ classes; ``service_levels`` (``[service_levels]``) overrides the matrix."""
    end = hist["ds"].max()
    recent = hist.filter(pl.col("ds") > end - pl.duration(days=window))
    prices = _frame(engine, select(t.skus.c.sku, t.skus.c.price),
                    {"sku": pl.Utf8, "price": pl.Float64})
    price = recent.select("unique_id").unique().with_columns(
        pl.col("unique_id").str.split("@").list.first().alias("sku")).join(
        prices, on="sku", how="left").select("unique_id", "price")
    return abc_xyz(recent, price, matrix=service_matrix(service_levels))
