"""Every candidate model by name on real M5 series; candidates routed by demand class."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.classify import demand_classes
from stockpilot.forecast.data import Prepared
from stockpilot.forecast.selection import ROUTES, eligible, forecast_frame, routes
from stockpilot.forecast.stats import StatsForecaster

NAMED = ("SeasonalNaive", "AutoETS", "AutoTheta", "AutoARIMA", "MSTL", "CrostonOptimized",
         "TSB", "ADIDA", "IMAPA")
H = 14


@pytest.mark.parametrize("name", NAMED)
def test_each_named_model_gives_nine_monotone_non_negative_quantiles(name, mixed_recent):
    df = mixed_recent
    if name == "AutoARIMA":  # its order search is the slow one: 90 days keep the test fast
        df = df.filter(pl.col("ds") > df["ds"].max() - timedelta(days=90))
    f = StatsForecaster(name, horizon=H, n_windows=1).fit(df)
    fc = f.predict(H)
    assert fc.height == 20 * H
    assert fc["ds"].min() == df["ds"].max() + timedelta(days=1)
    q = fc.select(QUANTILE_COLUMNS).to_numpy()
    assert len(QUANTILE_COLUMNS) == 9 and np.isfinite(q).all()
    assert (q >= 0).all() and (np.diff(q, axis=1) >= -1e-9).all()
    # conformal intervals from the model's own errors, for intermittent models too
    # (statsforecast gives Croston/TSB/ADIDA/IMAPA no intervals of their own)
    assert (fc["q0.995"] > fc["q0.005"]).mean() > 0.9
    assert f.cv_["unique_id"].n_unique() == 20


def test_eligibility_follows_the_demand_class():
    models = ("SeasonalNaive", "AutoETS", "TSB", "LightGBM")
    assert eligible(models, "lumpy") == ["SeasonalNaive", "TSB", "LightGBM"]
    assert eligible(models, "smooth") == ["SeasonalNaive", "AutoETS", "LightGBM"]
    assert eligible(("AutoETS",), "intermittent") == ["AutoETS"]  # never left without one
    assert ROUTES["IMAPA"] == {"intermittent", "lumpy"}


def test_every_frequency_routes_as_daily_and_the_measured_alternative_opens_every_class():
    from stockpilot.forecast.selection import EVERYWHERE

    models = ("SeasonalNaive", "AutoETS", "TSB")
    for freq in ("1d", "1w", "1mo"):  # measured on M5 monthly: no gain early, not adopted
        assert "AutoETS" not in eligible(models, "intermittent", freq)
    assert eligible(models, "intermittent", EVERYWHERE) == ["SeasonalNaive", "AutoETS", "TSB"]
    assert eligible(models, "smooth", EVERYWHERE) == ["SeasonalNaive", "AutoETS"]  # TSB stays out
    classes = pl.DataFrame({"unique_id": ["a", "b"], "demand_class": ["intermittent", "lumpy"]})
    for freq, ets in (("1mo", set()), (EVERYWHERE, {"a", "b"})):
        r = routes(classes, models, freq)
        assert set(r.filter(pl.col("model") == "AutoETS")["unique_id"]) == ets, freq


def test_selection_routes_candidates_by_class_on_real_series(mixed_recent):
    models = ("SeasonalNaive", "AutoETS", "CrostonOptimized")
    prep = Prepared(mixed_recent, mixed_recent["ds"].max())
    result = forecast_frame(prep, models, H, 1)
    choice = result.choice
    classes = dict(demand_classes(mixed_recent).select("unique_id", "demand_class")
                   .iter_rows())
    assert {"smooth", "intermittent"} <= set(classes.values()) or \
        {"erratic", "lumpy"} & set(classes.values())
    for uid, model in choice.select("unique_id", "model").iter_rows():
        assert model in eligible(models, classes[uid]), (uid, classes[uid], model)
    continuous = {u for u, k in classes.items() if k in ("smooth", "erratic")}
    intermittent = set(classes) - continuous
    assert continuous and intermittent
    # local models saw only their series: ETS no intermittent one, Croston no smooth one
    ets = choice.filter(pl.col("unique_id").is_in(list(intermittent)))
    assert ets["mse_AutoETS"].is_null().all()
    croston = choice.filter(pl.col("unique_id").is_in(list(continuous)))
    assert croston["mse_CrostonOptimized"].is_null().all()
    assert result.forecasts["unique_id"].n_unique() == 20
    assert result.forecasts.height == 20 * H


def test_routes_table_pairs_series_with_eligible_models():
    classes = pl.DataFrame({"unique_id": ["a", "b"], "demand_class": ["smooth", "lumpy"]})
    r = routes(classes, ("TSB", "AutoETS", "SeasonalNaive"))
    got = {(u, m) for u, m, _ in r.iter_rows()}
    assert got == {("a", "AutoETS"), ("a", "SeasonalNaive"), ("b", "TSB"),
                   ("b", "SeasonalNaive")}


def test_a_series_too_short_for_ets_falls_back_instead_of_failing(mixed_recent):
    one = mixed_recent["unique_id"].unique().sort()[0]
    tiny = pl.DataFrame({"unique_id": "new", "ds": mixed_recent["ds"].max()
                         - pl.Series([timedelta(days=i) for i in range(2, -1, -1)]),
                         "y": [3.0, 0.0, 2.0]})
    df = pl.concat([mixed_recent.filter(pl.col("unique_id") == one), tiny])
    fc = StatsForecaster("AutoETS", season_length=7, horizon=7, n_windows=1).fit(df).predict(7)
    new = fc.filter(pl.col("unique_id") == "new")
    assert new.height == 7 and new["mean"].to_list() == pytest.approx([5 / 3] * 7)
