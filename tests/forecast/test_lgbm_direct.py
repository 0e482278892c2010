"""Direct LightGBM (one model per horizon band): no prediction is fed back, covariates per day."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.features import m5_covariates
from stockpilot.forecast.lgbm_direct import LGBMDirectForecaster, band_ends

H = 14


@pytest.fixture(scope="module")
def covariates(m5_calendar, foods_prices, foods_recent):
    end = foods_recent["ds"].max()
    return m5_covariates(m5_calendar, foods_prices, foods_recent["unique_id"].unique(),
                         foods_recent["ds"].min(), end + timedelta(days=H))


@pytest.fixture(scope="module")
def fitted(foods_recent, covariates):
    return LGBMDirectForecaster(horizon=H, n_windows=1, n_estimators=40, num_threads=1,
                                bands=(7, 14)).fit(foods_recent, covariates)


def test_band_ends_cover_the_horizon():
    assert band_ends((7, 14, 21, 28), 28) == [7, 14, 21, 28]
    assert band_ends((7, 14, 21, 28), 10) == [7, 10]
    assert band_ends((28,), 14) == [14]
    with pytest.raises(StockpilotError):
        band_ends((0,), 7)


def test_forecasts_every_step_with_monotone_quantiles(fitted, foods_recent):
    fc = fitted.predict(H)
    n = foods_recent["unique_id"].n_unique()
    assert fc.height == n * H
    q = fc.select(QUANTILE_COLUMNS).to_numpy()
    assert (np.diff(q, axis=1) >= -1e-9).all() and (q >= 0).all()
    # the backtest covers one inner window of H steps per series
    assert fitted.cv_.height == n * H and fitted.cv_["h"].max() == H


def test_each_band_reads_its_own_days_covariates(fitted, covariates, foods_recent):
    """A price change on step 10 (second band) moves step 10 and no step of the first band."""
    end = foods_recent["ds"].max()
    future = covariates.filter(pl.col("ds") > end)
    day10 = end + timedelta(days=10)
    bumped = future.with_columns(pl.when(pl.col("ds") == day10).then(pl.lit(1e4))
                                 .otherwise(pl.col("sell_price")).alias("sell_price"))
    base, moved = fitted.predict(H, future), fitted.predict(H, bumped)
    diff = (base["mean"] - moved["mean"]).abs().to_numpy().reshape(-1, H)
    assert diff[:, :7].max() == 0.0
    assert diff[:, 9].max() > 0.0


def test_refuses_a_longer_horizon_than_fitted(fitted):
    with pytest.raises(StockpilotError):
        fitted.predict(H + 1)
