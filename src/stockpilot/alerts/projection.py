"""Projected stock day by day: what alerts and the dashboard's chart read (pure).

Day 1 is ``today``. Each day, in the simulator's order (GLOSSARY, "Simulation"): receipts due
that day arrive first (open purchase-order lines on their expected date, transfers in transit
on theirs; one already overdue is counted on day 1, never dropped), then the day's forecast
mean demand is taken:

    projected(k) = available + Σ_{j ≤ k} arriving(j) − Σ_{j ≤ k} demand(j)

A day past the forecast's horizon uses the series' average forecast mean. A stockout is the
first day with projected < 0 (demand left unserved). Arrivals are never moved to day 1: an
order due on day 21 does not hide a stockout on day 7.
"""

from __future__ import annotations

from datetime import date

import polars as pl

ARRIVALS_SCHEMA = {"unique_id": pl.Utf8, "expected_at": pl.Date, "qty": pl.Int64}


def project(start: pl.DataFrame, daily: pl.DataFrame, arrivals: pl.DataFrame, today: date,
            horizon_days: int) -> pl.DataFrame:
    """``unique_id, day, ds, demand, arriving, projected`` for days 1 … ``horizon_days``.

    Args:
        start: ``unique_id, available`` (sellable − reserved, today before any receipt).
        daily: forecast ``unique_id, ds, mean`` (mean daily demand).
        arrivals: ``unique_id, expected_at, qty`` of units on their way.
        today: day 1 of the projection.
        horizon_days: how many days to project.
    """
    days = pl.DataFrame({"day": range(1, max(horizon_days, 1) + 1)},
                        schema={"day": pl.Int64})
    grid = start.select("unique_id", "available").join(days, how="cross").with_columns(
        (pl.lit(today) + pl.duration(days=pl.col("day") - 1)).cast(pl.Date).alias("ds"))
    avg = daily.group_by("unique_id").agg(pl.col("mean").mean().alias("avg"))
    grid = grid.join(daily.select("unique_id", pl.col("ds").cast(pl.Date), "mean"),
                     on=["unique_id", "ds"], how="left").join(avg, on="unique_id", how="left")
    arr = arrivals.with_columns(
        ((pl.col("expected_at") - pl.lit(today)).dt.total_days() + 1).clip(lower_bound=1)
        .alias("day")).group_by("unique_id", "day").agg(pl.col("qty").sum().alias("arriving"))
    grid = grid.join(arr, on=["unique_id", "day"], how="left").with_columns(
        pl.coalesce("mean", "avg", pl.lit(0.0)).alias("demand"),
        pl.col("arriving").fill_null(0).cast(pl.Float64)).sort("unique_id", "day")
    flow = (pl.col("arriving") - pl.col("demand")).cum_sum().over("unique_id")
    return grid.select("unique_id", "day", "ds", "demand", "arriving",
                       (pl.col("available") + flow).alias("projected"))


def first_stockouts(projection: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, stockout_day, stockout_ds``: the first day with projected < 0."""
    return projection.filter(pl.col("projected") < 0).group_by("unique_id").agg(
        pl.col("day").min().alias("stockout_day"), pl.col("ds").min().alias("stockout_ds"))


def next_arrivals(arrivals: pl.DataFrame, today: date) -> pl.DataFrame:
    """``unique_id, next_day, next_ds, next_qty``: the earliest arrival of each series."""
    arr = arrivals.with_columns(
        ((pl.col("expected_at") - pl.lit(today)).dt.total_days() + 1).clip(lower_bound=1)
        .alias("next_day"))
    first = arr.group_by("unique_id").agg(pl.col("next_day").min())
    return arr.join(first, on=["unique_id", "next_day"]).group_by("unique_id", "next_day").agg(
        pl.col("expected_at").min().alias("next_ds"), pl.col("qty").sum().alias("next_qty"))
