"""Rolling-origin forecasts for a simulation: at each review day, forecast with past data only.

For every review day the forecaster is refitted on the history up to the day before and
yields the calibrated quantiles of demand over the protection interval (lead time + review)
plus the mean and the spread of that sum, from which both the quantile policy and the
normal-theory policy take their levels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from stockpilot.forecast.data import prepare
from stockpilot.forecast.leadtime import interval_errors, lead_time_quantiles
from stockpilot.forecast.selection import forecast_frame

FAST_MODELS = ("SeasonalNaive", "CrostonOptimized", "TSB", "WindowAverage28")


@dataclass(frozen=True)
class Origin:
    """Protection-interval demand at one review day, rows in ``ids`` order."""

    day: date
    ltd: pl.DataFrame  # unique_id, days, mean, q…
    sigma: np.ndarray  # std of the P-day-sum errors (normal theory)


def rolling_ltd(df: pl.DataFrame, ids: list[str], review_days: list[date], protection: int,
                models: Sequence[str] = FAST_MODELS, n_windows: int = 2,
                horizon: int | None = None, max_start: int | None = None,
                progress: Callable[[str], None] | None = None) -> list[Origin]:
    """Refit at every review day on data strictly before it; see the module docstring.

    A ``horizon`` longer than the protection interval gives each calibration window several
    P-day sums (h = 1…P, 2…P+1, …): more errors per series for the quantiles.
    """
    say = progress or (lambda _m: None)
    out = []
    horizon = max(horizon or protection, protection, 7)
    for i, day in enumerate(review_days):
        say(f"origin {i + 1}/{len(review_days)}: {day}")
        prep = prepare(df.filter(pl.col("ds") < day), day - timedelta(days=1))
        fc = forecast_frame(prep, models, horizon, n_windows)
        ltd = lead_time_quantiles(fc.forecasts, fc.cv, prep.df, protection,
                                  max_start=max_start)
        sig = interval_errors(fc.cv, protection).group_by("unique_id").agg(
            pl.col("resid").std().alias("sigma"))
        frame = pl.DataFrame({"unique_id": ids}).join(ltd, on="unique_id", how="left") \
            .fill_null(0.0)
        sigma = pl.DataFrame({"unique_id": ids}).join(sig, on="unique_id", how="left") \
            .fill_null(0.0)["sigma"].fill_nan(0.0).to_numpy()
        out.append(Origin(day, frame, sigma))
    return out
