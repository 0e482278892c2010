"""Quantiles from out-of-sample errors (split conformal), for every model and every series.

Gaussian intervals of ETS/ARIMA under-cover on retail demand, and statsforecast's
intermittent models (Croston, TSB, ADIDA, IMAPA) have no intervals at all (statsforecast issue
237). So every model's quantiles come from its own rolling-origin errors: for each series and
level τ, the τ-quantile of (actual − point forecast) is added to the point forecast, clipped at
zero and made monotone in τ.

A series has only n_windows × h errors (84 for 3 × 28 days) — too few for τ = 0.995 — so its
empirical quantile is shrunk towards the pooled quantile of errors scaled by each series' level
(mean absolute demand): q_i = w·Q_i + (1 − w)·s_i·Q_pool with w = n_i / (n_i + k). Pooling
scaled errors across series is the "global" calibration of Stankevičiūtė et al. (2021) style
conformal forecasting; the shrinkage weight is ours. k = 50 by default, from
``benchmarks/forecast_m5_explore.py`` (972 real M5 daily series, LightGBM, 3 × 28-day windows):
item-level SPL 0.263 at k = 10–30, 0.267 at 50, 0.276 at 100, 0.303 at 1,000, while the upper
quantiles' coverage drifts away from their levels as k falls (at 0.75: 0.774 at k = 10, 0.766 at
30, 0.761 at 50, 0.753 at 100); k = 50 is the smallest k that keeps all four upper quantiles
within 1.5 points.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from stockpilot.forecast.base import QUANTILES, qcol

SHRINK_K = 50.0


def residual_quantiles(residuals: pl.DataFrame, scale: pl.DataFrame,
                       quantiles: tuple[float, ...] = QUANTILES, k: float = SHRINK_K
                       ) -> pl.DataFrame:
    """Offsets per series: ``unique_id, q…`` to add to point forecasts.

    Args:
        residuals: ``unique_id, resid`` (actual − forecast) from rolling-origin windows.
        scale: ``unique_id, scale`` (a positive level per series, e.g. mean |y|); series here
            without residuals get the pooled quantiles times their scale.
        quantiles: the levels wanted.
        k: shrinkage strength towards the pooled, scaled quantiles.
    """
    if residuals.is_empty():
        # no series was long enough to cross-validate: no offsets (quantiles = the mean)
        return pl.DataFrame(schema={"unique_id": pl.Utf8} | {qcol(t): pl.Float64
                                                            for t in quantiles})
    r = residuals.join(scale, on="unique_id", how="left").with_columns(
        pl.col("scale").fill_null(1.0).clip(lower_bound=1e-6))
    pooled = {t: float(np.quantile((r["resid"] / r["scale"]).to_numpy(), t)) for t in quantiles}
    per = r.group_by("unique_id").agg(
        pl.len().alias("n"),
        *[pl.col("resid").quantile(t, interpolation="linear").alias(qcol(t)) for t in quantiles])
    # every series in ``scale`` gets offsets: one without errors of its own (too short to
    # cross-validate, e.g. a new product) takes the pooled quantiles at its own scale (w = 0)
    per = scale.with_columns(pl.col("scale").fill_null(1.0).clip(lower_bound=1e-6)).join(
        per, on="unique_id", how="full", coalesce=True).with_columns(
        pl.col("scale").fill_null(1.0), pl.col("n").fill_null(0),
        *[pl.col(qcol(t)).fill_null(0.0) for t in quantiles])
    w = pl.col("n") / (pl.col("n") + k)
    return per.select("unique_id", *[
        (w * pl.col(qcol(t)) + (1 - w) * pl.col("scale") * pooled[t]).alias(qcol(t))
        for t in quantiles])


def apply_offsets(point: pl.DataFrame, offsets: pl.DataFrame,
                  quantiles: tuple[float, ...] = QUANTILES) -> pl.DataFrame:
    """Quantile columns from ``point`` (``unique_id, ds, mean``) plus per-series offsets.

    Series without offsets (only when no series at all had errors to learn from) get the
    interval [mean, mean]; every quantile is clipped at zero and made non-decreasing in the level.
    """
    out = point.join(offsets, on="unique_id", how="left")
    cols = [qcol(t) for t in quantiles]
    out = out.with_columns([(pl.col("mean") + pl.col(c).fill_nan(0.0).fill_null(0.0))
                            .clip(lower_bound=0.0)
                            .alias(c) for c in cols])
    return monotone(out, cols)


def monotone(df: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """Make quantile columns non-decreasing left to right (running maximum)."""
    exprs = [pl.col(cols[0])]
    for c in cols[1:]:
        exprs.append(pl.max_horizontal(*[pl.col(x) for x in cols[: cols.index(c) + 1]]).alias(c))
    return df.with_columns(exprs)


def offsets_from_cv(cv: pl.DataFrame, history: pl.DataFrame,
                    quantiles: tuple[float, ...] = QUANTILES) -> pl.DataFrame:
    """Per-series offsets from a model's rolling-origin frame (``unique_id, y, mean``).

    Each series is scaled by its mean absolute demand in ``history`` (``unique_id, y``).
    """
    scale = history.group_by("unique_id").agg(pl.col("y").abs().mean().alias("scale"))
    resid = cv.select("unique_id", (pl.col("y") - pl.col("mean")).alias("resid"))
    return residual_quantiles(resid, scale, quantiles)
