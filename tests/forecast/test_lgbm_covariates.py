"""Future-known covariates reach the horizon step they belong to (recursive LightGBM).

mlforecast's direct strategy used to feed every horizon step the covariates of step 1
(mlforecast issue 705, closed; mlforecast 1.1.0 of our lock file passes this check with either
strategy). Whatever the strategy, a covariate changed only on step h must change the forecast
of step h and leave steps 1 … h−1 alone — this guards our wrapper and future upgrades.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.features import COVARIATES, calendar_features, m5_covariates
from stockpilot.forecast.lgbm import LGBMForecaster

H = 14


@pytest.fixture(scope="module")
def covariates(m5_calendar, foods_prices, foods_recent):
    end = foods_recent["ds"].max()
    return m5_covariates(m5_calendar, foods_prices, foods_recent["unique_id"].unique(),
                         foods_recent["ds"].min(), end + timedelta(days=H))


@pytest.fixture(scope="module")
def fitted(foods_recent, covariates):
    return LGBMForecaster(horizon=H, n_windows=1, n_estimators=60, num_threads=1).fit(
        foods_recent, covariates)


def test_m5_covariates_match_the_calendar_and_prices(covariates, m5_calendar):
    assert set(COVARIATES) <= set(covariates.columns)
    assert covariates.null_count().sum_horizontal()[0] == 0
    # TX series take Texas's SNAP days, not California's
    tx = covariates.join(m5_calendar.select(pl.col("date").alias("ds"), "snap_TX", "snap_CA"),
                         on="ds")
    assert (tx["snap"] == tx["snap_TX"]).all() and (tx["snap"] != tx["snap_CA"]).any()
    # Super Bowl day 2016-02-07 is a sporting event
    day = calendar_features(m5_calendar).filter(pl.col("ds") == pl.date(2016, 2, 7))
    assert day["event"][0] == 1 and day["event_sporting"][0] == 1
    assert covariates["price_rel_max"].max() <= 1.0 + 1e-12


def _steps(fc: pl.DataFrame) -> np.ndarray:
    """Point forecasts as (series, step)."""
    return fc.sort("unique_id", "ds").pivot(on="ds", index="unique_id", values="mean") \
        .drop("unique_id").to_numpy()


@pytest.mark.parametrize("column, value", [("sell_price", 1e4), ("snap", 1),
                                           ("event", 1)])
def test_covariate_changed_on_step_5_changes_step_5_only_before_it(fitted, foods_recent,
                                                                   covariates, column, value):
    end = foods_recent["ds"].max()
    future = covariates.filter(pl.col("ds") > end)
    day5 = end + timedelta(days=5)
    changed = future.with_columns(pl.when(pl.col("ds") == day5).then(pl.lit(value))
                                  .otherwise(pl.col(column)).cast(future[column].dtype)
                                  .alias(column))
    base, alt = _steps(fitted.predict(H, future)), _steps(fitted.predict(H, changed))
    np.testing.assert_array_equal(base[:, :4], alt[:, :4])
    assert np.abs(base[:, 4] - alt[:, 4]).max() > 1e-6, f"{column} on step 5 was ignored"


def test_covariates_from_fit_serve_predict_and_quantiles_are_sane(fitted, foods_recent,
                                                                  covariates):
    end = foods_recent["ds"].max()
    implicit = fitted.predict(H)
    explicit = fitted.predict(H, covariates.filter(pl.col("ds") > end))
    assert implicit.equals(explicit)
    assert implicit.height == 20 * H
    q = implicit.select(QUANTILE_COLUMNS).to_numpy()
    assert (q >= 0).all() and (np.diff(q, axis=1) >= -1e-9).all()
    assert set(fitted.exog_) == set(COVARIATES)


def test_missing_future_covariates_are_refused(fitted, foods_recent, covariates):
    end = foods_recent["ds"].max()
    short = covariates.filter((pl.col("ds") > end) & (pl.col("ds") <= end + timedelta(days=3)))
    with pytest.raises(StockpilotError, match="covariates"):
        fitted.predict(H, short)


def test_selection_hands_the_covariates_to_lightgbm(foods_recent, covariates):
    from stockpilot.forecast.data import Prepared
    from stockpilot.forecast.selection import forecast_frame

    ids = foods_recent["unique_id"].unique().sort()[:5]
    df = foods_recent.filter(pl.col("unique_id").is_in(ids.implode()))
    result = forecast_frame(Prepared(df, df["ds"].max()), ("SeasonalNaive", "LightGBM"), 7, 1,
                            covariates=covariates)
    assert result.forecasts.height == 5 * 7
    assert result.choice["mse_LightGBM"].is_not_null().all()
