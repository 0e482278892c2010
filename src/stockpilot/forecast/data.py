"""Turn daily demand from the history store into clean forecasting frames.

Problems real histories have, and what happens to them (each reported, none silent):
  * gaps (days without a row) are demand 0 — the history store only has days with movements;
  * negative days (returns exceeding sales) are clipped to 0 for fitting;
  * NaN/null units are treated as 0;
  * days before a series' first sale are dropped (the product was not yet listed);
  * series with no sale at all are kept out of model fitting and forecast as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from stockpilot.errors import StockpilotError


@dataclass
class Prepared:
    """A forecasting frame and what was done to get it."""

    df: pl.DataFrame  # unique_id, ds, y (Float64), every day from first sale to `end`
    end: date
    notes: list[str] = field(default_factory=list)
    all_zero: list[str] = field(default_factory=list)


def to_long(daily: pl.DataFrame) -> pl.DataFrame:
    """History store daily demand (``sku, location, date, units``) as ``unique_id, ds, y``."""
    # The id format of stockpilot.store.history.series_id ("sku@location"), vectorised.
    return daily.select((pl.col("sku") + "@" + pl.col("location")).alias("unique_id"),
                        pl.col("date").alias("ds"), pl.col("units").cast(pl.Float64).alias("y"))


def prepare(df: pl.DataFrame, end: date | None = None) -> Prepared:
    """Fill gaps with zeros up to ``end`` (default: the last day in the data), clean values."""
    if df.is_empty():
        raise StockpilotError("no demand history to forecast: import sales or compact the ledger")
    end = end or df["ds"].max()
    notes: list[str] = []
    nulls = df["y"].is_null().sum() + df["y"].is_nan().sum()
    if nulls:
        notes.append(f"{nulls} missing values treated as 0")
    neg = (df["y"] < 0).sum()
    if neg:
        notes.append(f"{neg} negative days (returns above sales) clipped to 0")
    clean = df.filter(pl.col("ds") <= end).with_columns(
        pl.col("y").fill_nan(0.0).fill_null(0.0).clip(lower_bound=0.0))
    agg = clean.group_by("unique_id", "ds").agg(pl.col("y").sum())
    first = agg.filter(pl.col("y") > 0).group_by("unique_id").agg(pl.col("ds").min()
                                                                  .alias("first"))
    all_zero = sorted(set(agg["unique_id"].unique().to_list()) - set(first["unique_id"]))
    if all_zero:
        notes.append(f"{len(all_zero)} series without any sale are forecast as 0")
    grid = first.with_columns(pl.date_ranges("first", pl.lit(end)).alias("ds")) \
        .explode("ds").select("unique_id", "ds")
    full = grid.join(agg, on=["unique_id", "ds"], how="left").with_columns(
        pl.col("y").fill_null(0.0)).sort("unique_id", "ds")
    filled = full.height - agg.join(first, on="unique_id").filter(
        pl.col("ds") >= pl.col("first")).height
    if filled:
        notes.append(f"{filled} missing days filled with 0")
    return Prepared(full, end, notes, all_zero)
