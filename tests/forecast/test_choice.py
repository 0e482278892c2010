"""Model choice by backtest: one model per demand class (default) or per series."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from stockpilot.errors import StockpilotError
from stockpilot.forecast.classify import demand_classes
from stockpilot.forecast.data import Prepared
from stockpilot.forecast.selection import class_winners, eligible, forecast_frame

H = 14


def _history(units: dict[str, list[float]]) -> pl.DataFrame:
    start = date(2016, 1, 1)
    return pl.concat([pl.DataFrame({"unique_id": uid, "ds": [start + timedelta(days=i)
                                                             for i in range(len(ys))],
                                    "y": ys}) for uid, ys in units.items()])


def test_class_winner_is_the_lowest_volume_weighted_rmsse():
    # "big" sells 10x more than "s1"/"s2": A is better on big, B on both small ones
    big = [10.0, 12.0] * 20
    small = [1.0, 0.0] * 20
    hist = _history({"big": big, "s1": small, "s2": small})
    classes = pl.DataFrame({"unique_id": ["big", "s1", "s2"], "demand_class": ["smooth"] * 3})
    long = pl.DataFrame({"unique_id": ["big", "s1", "s2"] * 2,
                         "model": ["A"] * 3 + ["B"] * 3,
                         "mse": [1.0, 1.0, 1.0, 4.0, 0.25, 0.25],
                         "rank": [0] * 3 + [1] * 3})
    win = class_winners(long, classes, hist)
    assert win.row(0, named=True)["model"] == "A"
    # equal weights would pick B (its mean RMSSE over the three series is lower)
    scale = {"big": 4.0, "s1": 1.0, "s2": 1.0}  # one-step naive MSE of each history

    def equal(mses: list[float]) -> float:
        return float(np.mean([np.sqrt(m / scale[u]) for u, m in zip(scale, mses, strict=True)]))

    assert equal([4.0, 0.25, 0.25]) < equal([1.0, 1.0, 1.0])
    units = {"big": 11.0 * 28, "s1": 14.0, "s2": 14.0}
    expect_a = sum(units[u] * np.sqrt(1.0 / scale[u]) for u in units) / sum(units.values())
    assert win["wrmsse"][0] == pytest.approx(expect_a)


def test_a_model_backtested_on_fewer_series_cannot_win_the_class():
    hist = _history({"a": [3.0, 1.0] * 20, "b": [2.0, 4.0] * 20})
    classes = pl.DataFrame({"unique_id": ["a", "b"], "demand_class": ["erratic"] * 2})
    long = pl.DataFrame({"unique_id": ["a", "b", "a"], "model": ["Full", "Full", "Part"],
                         "mse": [2.0, 2.0, 0.01], "rank": [1, 1, 0]})
    win = class_winners(long, classes, hist)
    assert win.select("model", "series").row(0) == ("Full", 2)


def test_a_class_that_sold_nothing_lately_is_weighted_equally():
    # both series sold only in their first days: no units in the last 28 days
    quiet = [5.0, 3.0] + [0.0] * 38
    hist = _history({"a": quiet, "b": quiet})
    classes = pl.DataFrame({"unique_id": ["a", "b"], "demand_class": ["lumpy"] * 2})
    long = pl.DataFrame({"unique_id": ["a", "b", "a", "b"], "model": ["X", "X", "Y", "Y"],
                         "mse": [1.0, 16.0, 4.0, 4.0], "rank": [0, 0, 1, 1]})
    win = class_winners(long, classes, hist)
    # equal weights: X = (1 + 4)/2 = 2.5/sqrt(scale), Y = (2 + 2)/2 = 2/sqrt(scale)
    assert win["model"][0] == "Y"
    scale = (2.0**2 + 3.0**2) / 39  # naive steps from the first sale: -2, -3, then zeros
    assert win["wrmsse"][0] == pytest.approx(2.0 / np.sqrt(scale))


def test_class_choice_gives_each_class_one_model_on_real_series(mixed_recent):
    models = ("SeasonalNaive", "CrostonOptimized", "WindowAverage28")
    prep = Prepared(mixed_recent, mixed_recent["ds"].max())
    result = forecast_frame(prep, models, H, 1)
    choice = result.choice
    classes = dict(demand_classes(mixed_recent).select("unique_id", "demand_class")
                   .iter_rows())
    per_class = choice.group_by("demand_class").agg(pl.col("model").unique())
    for klass, chosen in per_class.iter_rows():
        assert len(chosen) == 1, (klass, chosen)
        assert chosen[0] in eligible(models, klass)
    assert set(choice["unique_id"]) == set(classes)
    # the forecasts are the chosen model's, one row per series and day
    fc_models = result.forecasts.group_by("unique_id").agg(pl.col("model").first())
    assert dict(fc_models.iter_rows()) == dict(choice.select("unique_id", "model").iter_rows())
    assert result.forecasts.height == 20 * H


def test_series_choice_takes_each_series_own_lowest_backtest_mse(mixed_recent):
    models = ("SeasonalNaive", "CrostonOptimized", "WindowAverage28")
    prep = Prepared(mixed_recent, mixed_recent["ds"].max())
    by_series = forecast_frame(prep, models, H, 1, choice="series").choice
    by_class = forecast_frame(prep, models, H, 1).choice
    mse_cols = [f"mse_{m}" for m in models]
    for row in by_series.iter_rows(named=True):
        scores = {m: row[f"mse_{m}"] for m in models if row[f"mse_{m}"] is not None}
        assert row["model"] == min(scores, key=scores.__getitem__)
        assert row["cv_mse"] == pytest.approx(scores[row["model"]])
    # the same backtests, so the same error columns; the choices differ somewhere here
    assert by_class.sort("unique_id").select(mse_cols).equals(
        by_series.sort("unique_id").select(mse_cols))
    assert (by_class.sort("unique_id")["model"] != by_series.sort("unique_id")["model"]).any()


def test_an_unknown_choice_is_refused(mixed_recent):
    prep = Prepared(mixed_recent, mixed_recent["ds"].max())
    with pytest.raises(StockpilotError, match="unknown choice 'best'"):
        forecast_frame(prep, ("SeasonalNaive",), H, 1, choice="best")


def _with_short_series(mixed_recent: pl.DataFrame) -> pl.DataFrame:
    """``mixed_recent`` plus a copy of one series' last 10 days: too short for a backtest."""
    src = mixed_recent["unique_id"].unique().sort()[0]
    short = mixed_recent.filter(pl.col("unique_id") == src).tail(10) \
        .with_columns(pl.lit("SHORT@X").alias("unique_id"))
    return pl.concat([mixed_recent, short])


def test_a_series_too_short_to_backtest_takes_its_class_model(mixed_recent):
    df = _with_short_series(mixed_recent)
    models = ("SeasonalNaive", "CrostonOptimized", "WindowAverage28")
    result = forecast_frame(Prepared(df, df["ds"].max()), models, H, 1)
    choice = result.choice
    short = choice.filter(pl.col("unique_id") == "SHORT@X").row(0, named=True)
    assert short["cv_mse"] is None  # no backtest
    peers = choice.filter((pl.col("demand_class") == short["demand_class"])
                          & (pl.col("unique_id") != "SHORT@X"))["model"].unique().to_list()
    assert peers and short["model"] in peers
    assert result.forecasts.filter(pl.col("unique_id") == "SHORT@X").height == H


class _LongOnly:
    """A candidate that, like LightGBM with its lags, cannot forecast a short series."""

    def __init__(self, horizon: int, n_windows: int) -> None:
        from stockpilot.forecast.stats import StatsForecaster

        self.inner = StatsForecaster("WindowAverage28", horizon=horizon, n_windows=n_windows)

    def fit(self, df: pl.DataFrame, X: pl.DataFrame | None = None) -> _LongOnly:
        self.inner.fit(df)
        self.cv_ = self.inner.cv_
        return self

    def predict(self, h: int) -> pl.DataFrame:
        return self.inner.predict(h).filter(pl.col("unique_id") != "SHORT@X")


def test_a_short_series_its_class_model_cannot_forecast_falls_back(mixed_recent):
    from stockpilot.forecast.selection import make_forecaster

    def factory(name, horizon, n_windows, freq="1d", season_length=7):
        if name == "WindowAverage28":
            return _LongOnly(horizon, n_windows)
        return make_forecaster(name, horizon, n_windows, freq, season_length)

    df = _with_short_series(mixed_recent)
    result = forecast_frame(Prepared(df, df["ds"].max()), ("WindowAverage28", "SeasonalNaive"),
                            H, 1, factory=factory)
    klass = result.choice.filter(pl.col("unique_id") == "SHORT@X")["demand_class"][0]
    winner = result.choice.filter((pl.col("demand_class") == klass)
                                  & (pl.col("unique_id") != "SHORT@X"))["model"][0]
    got = result.choice.filter(pl.col("unique_id") == "SHORT@X")["model"][0]
    assert winner == "WindowAverage28"  # the case under test: the class model cannot
    # never dropped: the class's model if it forecast the series, else the first eligible
    # candidate that did (WindowAverage28 is listed first, and cannot)
    assert result.forecasts.filter(pl.col("unique_id") == "SHORT@X").height == H
    assert got == ("SeasonalNaive" if winner == "WindowAverage28" else winner)
    assert result.forecasts.filter(pl.col("unique_id") == "SHORT@X")["model"][0] == got
