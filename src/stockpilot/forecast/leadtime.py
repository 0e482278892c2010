"""Distribution of demand summed over a protection interval (lead time + review), per series.

Quantiles of a sum are not sums of daily quantiles. We calibrate the sum directly: in every
rolling-origin window, sum actuals and point forecasts over each run of P consecutive days
(h = k … k+P−1), take the errors of those sums, and add their quantiles (shrunk towards the
pooled, scaled quantiles as in :mod:`stockpilot.forecast.conformal`) to the forecast sum of the
next P days. Later runs in a window carry a little more error than the first, which errs on
the side of more protection. This is an empirical (bootstrap-free) method: no normality is
assumed, so it suits intermittent items too.
"""

from __future__ import annotations

import polars as pl

from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.forecast.conformal import monotone, residual_quantiles


def interval_errors(cv: pl.DataFrame, days: int, max_start: int | None = None) -> pl.DataFrame:
    """Errors of P-day sums from a rolling-origin frame ``unique_id, cutoff, h, y, mean``.

    ``max_start`` keeps only runs starting at h ≤ max_start (runs that start later carry the
    larger errors of longer horizons, which a planner's interval, starting tomorrow, does not).
    """
    s = cv.sort("unique_id", "cutoff", "h")
    roll = s.with_columns(
        pl.col("y").rolling_sum(days).over("unique_id", "cutoff").alias("y_sum"),
        pl.col("mean").rolling_sum(days).over("unique_id", "cutoff").alias("f_sum"))
    roll = roll.filter(pl.col("y_sum").is_not_null())
    if max_start is not None:
        roll = roll.filter(pl.col("h") - days + 1 <= max_start)
    return roll.select(
        "unique_id", (pl.col("y_sum") - pl.col("f_sum")).alias("resid"))


def lead_time_quantiles(forecast: pl.DataFrame, cv: pl.DataFrame, history: pl.DataFrame,
                        days: int, quantiles: tuple[float, ...] = QUANTILES,
                        max_start: int | None = None) -> pl.DataFrame:
    """``unique_id, days, mean, q…`` of demand over the next ``days`` days.

    Args:
        forecast: ``unique_id, ds, mean`` for at least ``days`` steps.
        cv: rolling-origin errors of the same model (``unique_id, cutoff, h, y, mean``).
        history: ``unique_id, ds, y`` (for each series' level, the shrinkage scale).
        days: the protection interval P (lead time + review period), in days.
        quantiles: levels wanted.
        max_start: calibrate only on runs starting within the first ``max_start`` days.
    """
    first = forecast.sort("unique_id", "ds").group_by("unique_id", maintain_order=True).head(days)
    total = first.group_by("unique_id").agg(pl.col("mean").sum())
    scale = history.group_by("unique_id").agg((pl.col("y").abs().mean() * days).alias("scale"))
    offsets = residual_quantiles(interval_errors(cv, days, max_start), scale, quantiles)
    out = total.join(offsets, on="unique_id", how="left")
    cols = [qcol(t) for t in quantiles]
    out = out.with_columns([(pl.col("mean") + pl.col(c).fill_null(0.0)).clip(lower_bound=0.0)
                            .alias(c) for c in cols])
    return monotone(out, cols).with_columns(pl.lit(days).alias("days")).select(
        "unique_id", "days", "mean", *cols).sort("unique_id")
