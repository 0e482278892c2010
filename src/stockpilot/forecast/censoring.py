"""Stockout-aware demand: sales on censored days understate demand, so they are imputed.

A censored day (zero available stock at some point, from the ledger's compaction) has sales
≤ demand. Before fitting, such a day's value is raised to the seasonal baseline (mean of the
same weekday over the previous 8 weeks, learned from uncensored days only) when the sales fall
below it; sales above the baseline are kept (a lower bound already above the estimate).
"""

from __future__ import annotations

import polars as pl

from stockpilot.forecast.outliers import seasonal_baseline


def impute_censored(df: pl.DataFrame, censored: pl.DataFrame) -> pl.DataFrame:
    """``df`` (unique_id, ds, y) with censored days (unique_id, ds) raised to the baseline."""
    if censored.is_empty():
        return df
    marked = df.sort("unique_id", "ds").join(
        censored.select("unique_id", "ds").unique().with_columns(pl.lit(True).alias("_c")),
        on=["unique_id", "ds"], how="left").with_columns(pl.col("_c").fill_null(False))
    # the baseline is learned from uncensored days only (censored sales are not demand)
    marked = marked.with_columns(pl.when(pl.col("_c")).then(None).otherwise(pl.col("y"))
                                 .alias("_clean"))
    # the mean, not the median: an imputed day stands for expected demand
    marked = marked.with_columns(seasonal_baseline(marked, value="_clean", stat="mean"))
    out = marked.with_columns(
        pl.when(pl.col("_c") & (pl.col("y") < pl.col("baseline")))
        .then(pl.col("baseline")).otherwise(pl.col("y")).alias("y"))
    return out.select("unique_id", "ds", "y")
