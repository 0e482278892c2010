"""Outliers against a seasonal baseline: flagged for the user, optionally winsorised, never dropped.

Baseline: the median of the same weekday over the previous ``weeks`` weeks (a robust seasonal
naive). Scale: 1.4826 × the median absolute deviation of the series' residuals from that
baseline (the MAD-based robust z-score, Iglewicz & Hoaglin 1993). A day is an outlier when
|y − baseline| > ``k`` × scale.
"""

from __future__ import annotations

import polars as pl


def seasonal_baseline(df: pl.DataFrame, weeks: int = 8, value: str = "y",
                      stat: str = "median") -> pl.Expr:
    """Median (or mean) of the same weekday over the previous ``weeks`` weeks, nulls skipped."""
    del df
    prev = pl.col(value).shift(1)
    roll = (prev.rolling_mean(weeks, min_samples=2) if stat == "mean"
            else prev.rolling_median(weeks, min_samples=2))
    return roll.over("unique_id", pl.col("ds").dt.weekday()).alias("baseline")


def flag_outliers(df: pl.DataFrame, k: float = 5.0, weeks: int = 8) -> pl.DataFrame:
    """``df`` (unique_id, ds, y) plus ``baseline``, ``z`` and ``outlier`` columns."""
    s = df.sort("unique_id", "ds").with_columns(pl.col("ds").dt.weekday().alias("_wd"))
    s = s.with_columns(seasonal_baseline(s, weeks))
    resid = pl.col("y") - pl.col("baseline")
    s = s.with_columns(resid.alias("_r"))
    # floor the scale: a regular series has MAD 0, and an intermittent one's MAD is 0 around a
    # zero baseline, so never go below one unit or the series' own standard deviation
    mad = s.group_by("unique_id").agg(pl.max_horizontal(
        (pl.col("_r") - pl.col("_r").median()).abs().median() * 1.4826,
        pl.lit(1.0), pl.col("y").std().fill_null(0.0)).alias("_scale"))
    s = s.join(mad, on="unique_id", how="left")
    z = pl.when(pl.col("_scale") > 0).then(pl.col("_r") / pl.col("_scale")).otherwise(0.0)
    return s.with_columns(z.fill_null(0.0).alias("z")).with_columns(
        (pl.col("z").abs() > k).alias("outlier")).drop("_wd", "_r", "_scale")


def winsorise(flagged: pl.DataFrame, k: float = 5.0) -> pl.DataFrame:
    """Pull outliers back to baseline ± k × scale (the rest unchanged); ``unique_id, ds, y``."""
    scale = (pl.col("y") - pl.col("baseline")) / pl.col("z")
    capped = pl.col("baseline") + pl.col("z").sign() * k * scale
    return flagged.with_columns(
        pl.when(pl.col("outlier")).then(capped.clip(lower_bound=0.0)).otherwise(pl.col("y"))
        .alias("y")).select("unique_id", "ds", "y")
