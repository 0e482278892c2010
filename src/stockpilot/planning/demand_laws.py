"""Protection-interval demand laws, one per method, all SKUs of a frame at once.

Every law returns ``unique_id, days, method, mean, q…`` (the quantile columns of
:data:`LEVELS`) of demand over the next ``days`` days:

* ``forecast-quantiles``: the forecast's sum over the interval plus the quantiles of its own
  backtest errors of interval sums (:func:`stockpilot.forecast.leadtime.lead_time_quantiles`).
* ``empirical-quantiles``: quantiles of the past ``days``-day sums of the history itself
  (overlapping blocks; Willemain, Smart & Schwarz 2004).
* ``compound-poisson``: demand occasions at the observed rate, each of a size drawn from the
  observed order-size distribution (Feller 1968, XII.2; by FFT, :mod:`.leadtime_dist`).
* ``normal-theory``: the same forecast sum + z(τ)·σ, σ the standard deviation of its backtest
  interval errors (Silver, Pyke & Thomas 2017, eq. 7.13): the textbook baseline.
* ``negative-binomial``: a negative binomial fitted by moments to the mean and variance of
  the past ``days``-day sums (Poisson when they are not over-dispersed; Agrawal & Smith 1996,
  "Estimating negative binomial demand for retail inventory management").

The mean of every law except ``forecast-quantiles`` is the history's mean daily demand × days.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.stats import nbinom, norm, poisson

from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.forecast.leadtime import interval_errors, lead_time_quantiles
from stockpilot.planning.leadtime_dist import _compound_by_size, _empirical

FORECAST = "forecast-quantiles"
EMPIRICAL = "empirical-quantiles"
COMPOUND = "compound-poisson"
NEG_BINOMIAL = "negative-binomial"
NORMAL = "normal-theory"
METHODS = (FORECAST, EMPIRICAL, COMPOUND, NEG_BINOMIAL, NORMAL)
#: Levels every law is evaluated at: the forecast's nine plus every service level the class
#: matrix uses (and a few more). Interpolating a target between far-apart levels was a root
#: cause of oversized levels on lumpy demand: with 0.835 and 0.975 as neighbours, a 90% target
#: took ~46% of a once-a-year lump that lies between them (docs/planning.md).
LEVELS: tuple[float, ...] = tuple(sorted({*QUANTILES, 0.8, 0.85, 0.9, 0.925, 0.93, 0.95, 0.96,
                                          0.97, 0.98, 0.99}))
QCOLS = [qcol(t) for t in LEVELS]


def law_columns() -> list[str]:
    """The columns every law returns, in order."""
    return ["unique_id", "days", "method", "mean", *QCOLS]


def _finish(frame: pl.DataFrame, days: int, method: str) -> pl.DataFrame:
    return frame.with_columns(pl.lit(days, pl.Int64).alias("days"),
                              pl.lit(method).alias("method"),
                              *[pl.col(c).cast(pl.Float64).clip(lower_bound=0.0)
                                for c in ("mean", *QCOLS)]).select(law_columns())


def negative_binomial(history: pl.DataFrame, days: int) -> pl.DataFrame:
    """Negative binomial (or Poisson) law of the ``days``-day sum, fitted by moments.

    Mean m and variance v of the overlapping ``days``-day sums; v > m gives
    NB(r = m² / (v − m), p = m / v), else Poisson(m).
    """
    sums = history.sort("unique_id", "ds").with_columns(
        pl.col("y").rolling_sum(days).over("unique_id").alias("s")).drop_nulls("s")
    st = sums.group_by("unique_id").agg(pl.col("s").mean().alias("m"),
                                        pl.col("s").var(ddof=1).fill_null(0.0).alias("v"))
    st = st.join(history.group_by("unique_id").agg(pl.col("y").mean()), on="unique_id",
                 how="right").sort("unique_id")
    m = st["m"].fill_null(0.0).to_numpy()
    v = st["v"].fill_null(0.0).to_numpy()
    over = v > m + 1e-9
    r = np.where(over, m**2 / np.where(over, v - m, 1.0), 1.0)
    p = np.where(over, m / np.where(over, v, 1.0), 0.5)
    cols = {}
    for t in LEVELS:
        q_nb = nbinom.ppf(t, np.maximum(r, 1e-9), np.clip(p, 1e-12, 1.0))
        q_po = poisson.ppf(t, m)
        cols[qcol(t)] = np.nan_to_num(np.where(over, q_nb, q_po), nan=0.0)
    mean = st["y"].fill_null(0.0).to_numpy() * days
    return _finish(pl.DataFrame({"unique_id": st["unique_id"], "mean": mean, **cols}), days,
                   NEG_BINOMIAL)


def empirical(history: pl.DataFrame, days: int) -> pl.DataFrame:
    """Quantiles of the history's own overlapping ``days``-day sums."""
    got = _empirical(history, days, LEVELS)
    ids = history.select("unique_id").unique()
    got = ids.join(got, on="unique_id", how="left").fill_null(0.0)
    return _finish(got, days, EMPIRICAL)


def compound_poisson(history: pl.DataFrame, days: int) -> pl.DataFrame:
    """Compound Poisson with the observed rate and empirical order sizes (module docs)."""
    live = history.filter(pl.col("y").sum().over("unique_id") > 0)
    parts = []
    if not live.is_empty():
        parts.append(_compound_by_size(live, days, LEVELS, "empirical", 10_000).select(
            "unique_id", "mean", *QCOLS))
    dead = history.filter(pl.col("y").sum().over("unique_id") <= 0).select("unique_id") \
        .unique()
    if not dead.is_empty():
        parts.append(dead.with_columns([pl.lit(0.0).alias(c) for c in ("mean", *QCOLS)]))
    mean = history.group_by("unique_id").agg((pl.col("y").mean() * days).alias("m"))
    out = pl.concat(parts).join(mean, on="unique_id").drop("mean").rename({"m": "mean"})
    return _finish(out, days, COMPOUND)


def forecast_quantiles(forecast: pl.DataFrame, cv: pl.DataFrame, history: pl.DataFrame,
                       days: int) -> pl.DataFrame:
    """The forecast's interval sum plus the quantiles of its backtest interval errors."""
    return _finish(lead_time_quantiles(forecast, cv, history, days, LEVELS), days, FORECAST)


def normal_theory(forecast: pl.DataFrame, cv: pl.DataFrame, history: pl.DataFrame,
                  days: int) -> pl.DataFrame:
    """Forecast sum μ_P + z(τ)·σ_P, σ_P the std of the backtest P-day-sum errors."""
    base = lead_time_quantiles(forecast, cv, history, days, (0.5,)).select("unique_id", "mean")
    sig = interval_errors(cv, days).group_by("unique_id").agg(
        pl.col("resid").std().alias("sigma"))
    out = base.join(sig, on="unique_id", how="left").with_columns(
        pl.col("sigma").fill_null(0.0).fill_nan(0.0))
    return _finish(out.with_columns([(pl.col("mean") + float(norm.ppf(t)) * pl.col("sigma"))
                                     .alias(qcol(t)) for t in LEVELS]), days, NORMAL)


def law(method: str, days: int, *, forecast: pl.DataFrame, cv: pl.DataFrame,
        history: pl.DataFrame) -> pl.DataFrame:
    """The law of ``method`` for every series of ``history`` (or ``forecast``)."""
    if method == FORECAST:
        return forecast_quantiles(forecast, cv, history, days)
    if method == EMPIRICAL:
        return empirical(history, days)
    if method == COMPOUND:
        return compound_poisson(history, days)
    if method == NEG_BINOMIAL:
        return negative_binomial(history, days)
    if method == NORMAL:
        return normal_theory(forecast, cv, history, days)
    raise ValueError(f"unknown demand method {method!r}; expected one of {METHODS}")


def largest_past_sum(history: pl.DataFrame, days: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, largest_past_demand``: the largest sum over any run of the series' days.

    Args:
        history: ``unique_id, ds, y`` (the window to look back on, e.g. the past year).
        days: ``unique_id, protection_days``.
    """
    parts = []
    for (p,), group in days.group_by("protection_days"):
        h = history.join(group, on="unique_id", how="semi").sort("unique_id", "ds")
        parts.append(h.with_columns(
            pl.col("y").rolling_sum(int(p), min_samples=1).over("unique_id").alias("s"))
            .group_by("unique_id").agg(pl.col("s").max().alias("largest_past_demand")))
    if not parts:
        return pl.DataFrame(schema={"unique_id": pl.Utf8, "largest_past_demand": pl.Float64})
    return pl.concat(parts).with_columns(pl.col("largest_past_demand").cast(pl.Float64))


def quantile_of(laws: pl.DataFrame, level: pl.Series | float) -> np.ndarray:
    """Each row's quantile at ``level`` (per row, or one for all), linear between LEVELS.

    Levels outside [0.005, 0.995] are clamped to the nearest kept level.
    """
    grid = np.array(LEVELS)
    values = laws.select(QCOLS).to_numpy()
    lv = np.clip(np.broadcast_to(np.asarray(level, dtype=float), (values.shape[0],)),
                 grid[0], grid[-1])
    idx = np.clip(np.searchsorted(grid, lv, side="right") - 1, 0, len(grid) - 2)
    frac = (lv - grid[idx]) / (grid[idx + 1] - grid[idx])
    rows = np.arange(values.shape[0])
    out: np.ndarray = values[rows, idx] + frac * (values[rows, idx + 1] - values[rows, idx])
    return out
