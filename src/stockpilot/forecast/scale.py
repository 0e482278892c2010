"""Candidates for large panels (tens of thousands of series), and the switch that uses them.

At the full M5 shape (30,490 series × 1,941 days, 59 M rows) one global LightGBM fit over
every day costs ~0.2 s per tree per million rows on one core of this 2-core machine; with
300 trees and a cross-validation fit plus the final fit that is hours, and everything else
in the pipeline takes minutes (``benchmarks/forecast_scale.py``). :class:`RecentLGBM` trains
on the last ``train_days`` days only (plus the 56 days its longest lag window reads) with
row bagging and half as many trees at twice the learning rate (150 × 0.1 instead of
300 × 0.05), which cuts the rows by ~4×, the work per tree by ~2× and the trees by 2×; a year
keeps one whole yearly cycle for the month feature.

``num_threads``: on a machine shared with other jobs, LightGBM's OpenMP threads busy-wait for
each other; measured here at load ~15 on 2 cores, 50 trees on 1.9 M rows took 152 s with 2
threads and 20 s with 1. Use 1 when the machine is shared, the core count when it is not.

Pass :func:`large_panel_factory`'s result as ``forecast_frame(..., factory=...)``.
"""

from __future__ import annotations

from typing import Any, Self

import polars as pl

from stockpilot.forecast import selection
from stockpilot.forecast.lgbm import LGBMForecaster
from stockpilot.forecast.selection import Factory

#: Days of history the LightGBM features look back (lag 28 + a 28-day rolling mean of lag 1,
#: and 4 weeks of lag 7): rows before that have missing features and are dropped anyway.
FEATURE_LOOKBACK_DAYS = 56

_LOCAL: Factory = selection.make_forecaster


class RecentLGBM(LGBMForecaster):
    """Global LightGBM trained on the most recent ``train_days`` days, with row bagging."""

    def __init__(self, horizon: int = 28, n_windows: int = 1, train_days: int = 365,
                 subsample: float = 0.5, num_threads: int = 1, n_estimators: int = 150,
                 learning_rate: float = 0.1, random_state: int = 0) -> None:
        super().__init__(horizon=horizon, n_windows=n_windows, n_estimators=n_estimators,
                         learning_rate=learning_rate, num_threads=num_threads,
                         random_state=random_state)
        self.train_days = train_days
        self.subsample = subsample

    def _mlf(self, min_lag: int | None = None) -> Any:
        mlf = super()._mlf(min_lag)
        mlf.models["LGBM"].set_params(subsample=self.subsample, subsample_freq=1)
        return mlf

    def fit(self, df: pl.DataFrame, X: pl.DataFrame | None = None) -> Self:
        """Fit on the last ``train_days`` (+ the cross-validation windows) days of ``df``."""
        keep = self.train_days + FEATURE_LOOKBACK_DAYS + self.horizon * self.n_windows
        end = df["ds"].max()
        recent = df.filter(pl.col("ds") > end - pl.duration(days=keep))
        return super().fit(recent, X)


def large_panel_factory(train_days: int = 365, subsample: float = 0.5,
                        num_threads: int = 1, n_estimators: int = 150) -> Factory:
    """A candidate factory: :class:`RecentLGBM` for ``LightGBM``, the usual ones otherwise."""

    def make(name: str, horizon: int, n_windows: int, freq: str = "1d",
             season_length: int = 7) -> Any:
        if name == "LightGBM":
            return RecentLGBM(horizon, n_windows, train_days, subsample, num_threads,
                              n_estimators, learning_rate=15.0 / n_estimators)
        return _LOCAL(name, horizon, n_windows, freq, season_length)

    return make
