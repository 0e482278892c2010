"""One definition of each stock KPI, shared by the overview's cards, the worklists and alerts.

Pure (polars frames in, frames out) so the alert rules (:mod:`stockpilot.alerts.rules`), the
overview (:mod:`stockpilot.web.kpis`), the worklists (:mod:`stockpilot.usecases.worklists`)
and the ``/metrics`` gauges count the same rows:

* **out of stock** — available ≤ 0 (nothing can be sold now);
* **projected stockout** — available stock, projected day by day (forecast mean out, open POs
  and transfers in on their expected dates; :mod:`stockpilot.alerts.projection`), goes below
  zero within the lead time, i.e. before an order placed today could arrive;
* **below reorder point** — inventory position (available + on order + in transit) ≤ the
  plan's reorder point (GLOSSARY: the position is what a reorder policy compares);
* **overstock** — inventory position above the order-up-to level and more than
  :data:`OVERSTOCK_COVER_DAYS` days of cover;
* **slow mover** — stock on hand that the forecast sells in more than :data:`SLOW_COVER_DAYS`
  days (or never);
* **days of cover** — available ÷ forecast mean per day (None when the forecast is 0).

Each definition is a flag column (``is_out``, …; a list filtered by a status keeps the rows
whose flag is set, so a card's count is its list's length); a SKU-location's **status** is the
first that holds in that order (``out``, ``stockout``,
``reorder``, ``overstock``, ``ok``); urgency sorts by status, then by days of cover minus lead
time (most negative first: cover runs out longest before an order could arrive).
"""

from __future__ import annotations

from datetime import date
from typing import cast

import polars as pl

from stockpilot.alerts.projection import ARRIVALS_SCHEMA, first_stockouts, project
from stockpilot.domain.series import unique_id

STATUSES = ("out", "stockout", "reorder", "overstock", "ok")
STATUS_LABELS = {"out": "Out of stock", "stockout": "Projected stockout",
                 "reorder": "Below reorder point", "overstock": "Overstock", "ok": "OK"}
OVERSTOCK_COVER_DAYS = 90
SLOW_COVER_DAYS = 180
REVIEW_DAYS = 7  # plans without lead_time_days carry protection_days = lead time + review


def with_uid(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with ``unique_id`` = ``sku@location`` (``domain.series.unique_id``)."""
    return df.with_columns(unique_id())


def inventory_position(df: pl.DataFrame) -> pl.Expr:
    """Available + on order + in transit (the columns ``df`` has)."""
    extra = [pl.col(c).fill_null(0) for c in ("on_order", "in_transit") if c in df.columns]
    return pl.sum_horizontal(pl.col("available"), *extra)


def out_of_stock(positions: pl.DataFrame) -> pl.DataFrame:
    """Positions with nothing available (available ≤ 0)."""
    return positions.filter(pl.col("available") <= 0)


def below_reorder_point(positions: pl.DataFrame, plan: pl.DataFrame) -> pl.DataFrame:
    """Positions whose inventory position ≤ the plan's reorder point.

    Adds ``unique_id``, ``position`` and ``reorder_point``.
    """
    df = with_uid(positions).join(plan.select("unique_id", "reorder_point"), on="unique_id")
    df = df.with_columns(inventory_position(df).alias("position"))
    return df.filter(pl.col("position") <= pl.col("reorder_point"))


def lead_days(plan: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, lead_days``: the plan's lead time (≥ 1 day)."""
    lead = (pl.col("lead_days") if "lead_days" in plan.columns
            else pl.col("lead_time_days") if "lead_time_days" in plan.columns
            else pl.col("protection_days") - REVIEW_DAYS)
    return plan.select("unique_id", lead.clip(lower_bound=1).cast(pl.Int64).alias("lead_days"))


def projected_stockouts(positions: pl.DataFrame, forecast: pl.DataFrame, plan: pl.DataFrame,
                        arrivals: pl.DataFrame | None = None, today: date | None = None
                        ) -> pl.DataFrame:
    """Positions whose projected stock goes below zero within the lead time.

    Args:
        positions: sku, location, available.
        forecast: unique_id, ds, mean (daily).
        plan: unique_id and lead_days or lead_time_days, or protection_days (lead time +
            review).
        arrivals: unique_id, expected_at, qty (None: nothing is on its way).
        today: day 1 of the projection (default: the forecast's first day).

    Returns:
        The positions' columns (available clipped at 0) with unique_id, lead_days,
        stockout_day, stockout_ds.
    """
    if forecast.is_empty() or positions.is_empty():
        return with_uid(positions).head(0).with_columns(
            pl.lit(None, pl.Int64).alias("lead_days"), pl.lit(None, pl.Int64).alias(
                "stockout_day"), pl.lit(None, pl.Date).alias("stockout_ds"))
    start = with_uid(positions).join(lead_days(plan), on="unique_id").join(
        forecast.select("unique_id").unique(), on="unique_id", how="semi").with_columns(
        pl.col("available").clip(lower_bound=0))
    day1: date = today or cast(date, forecast["ds"].min())
    arr = arrivals if arrivals is not None else pl.DataFrame(schema=ARRIVALS_SCHEMA)
    horizon = int(cast(int, start["lead_days"].max())) if start.height else 1
    proj = project(start.select("unique_id", "available"), forecast, arr, day1, horizon)
    return (start.join(first_stockouts(proj), on="unique_id")
            .filter(pl.col("stockout_day") <= pl.col("lead_days")))


def forecast_per_day(forecast: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, forecast_per_day``: the forecast's mean daily demand over its horizon."""
    return forecast.group_by("unique_id").agg(
        pl.col("mean").mean().cast(pl.Float64).alias("forecast_per_day"))


def days_of_cover() -> pl.Expr:
    """Available ÷ forecast per day (0 when nothing is available; None for no demand)."""
    per_day = pl.col("forecast_per_day")
    return (pl.when(pl.col("available") <= 0).then(0.0)
            .when(per_day.is_null() | (per_day <= 0)).then(None)
            .otherwise(pl.col("available") / per_day)).alias("days_of_cover")


def classify(df: pl.DataFrame, stockouts: pl.DataFrame) -> pl.DataFrame:
    """Add days_of_cover, position, cover_gap, slow, stockout_day, is_* flags, status, urgency.

    ``df`` has unique_id, available, forecast_per_day, lead_days, reorder_point and
    order_up_to (plan columns may be null); ``stockouts`` is :func:`projected_stockouts`.
    """
    day = (pl.col("stockout_day").cast(pl.Int64) if "stockout_day" in stockouts.columns
           else pl.lit(None, pl.Int64).alias("stockout_day"))
    hit = stockouts.select("unique_id", pl.lit(True).alias("_stockout"), day)
    out = df.join(hit, on="unique_id", how="left").with_columns(
        days_of_cover(), inventory_position(df).alias("position"))
    cover = pl.col("days_of_cover")
    out = out.with_columns(
        (cover.fill_null(float("inf")) - pl.col("lead_days").fill_null(0)).alias("cover_gap"),
        ((pl.col("available") > 0) & cover.is_null() | (cover > SLOW_COVER_DAYS))
        .fill_null(False).alias("slow"))
    out = out.with_columns(
        (pl.col("available") <= 0).alias("is_out"),
        pl.col("_stockout").fill_null(False).alias("is_stockout"),
        (pl.col("position") <= pl.col("reorder_point")).fill_null(False).alias("is_reorder"),
        ((pl.col("position") > pl.col("order_up_to"))
         & (cover.fill_null(float("inf")) > OVERSTOCK_COVER_DAYS)).fill_null(False)
        .alias("is_overstock")).drop("_stockout")
    status = pl.lit("ok")
    for name in reversed(STATUSES[:-1]):
        status = pl.when(pl.col(f"is_{name}")).then(pl.lit(name)).otherwise(status)
    return out.with_columns(status.alias("status")).with_columns(
        pl.col("status").replace_strict({s: i for i, s in enumerate(STATUSES)},
                                        return_dtype=pl.Int8).alias("urgency"))


def counts(classified: pl.DataFrame) -> dict[str, int]:
    """How many rows meet each definition; ``ok`` counts rows meeting none.

    A row below its reorder point and out of stock counts in both, as the alerts raise both.
    """
    if classified.is_empty():
        return dict.fromkeys(STATUSES, 0)
    got = {s: int(classified[f"is_{s}"].sum()) for s in STATUSES[:-1]}
    return {**got, "ok": int((classified["status"] == "ok").sum())}
