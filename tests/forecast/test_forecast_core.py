"""Forecasting core: classes, data cleaning, the statsforecast wrapper, conformal quantiles."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.classify import demand_classes
from stockpilot.forecast.conformal import apply_offsets, residual_quantiles
from stockpilot.forecast.data import prepare, to_long
from stockpilot.forecast.leadtime import interval_errors, lead_time_quantiles
from stockpilot.forecast.stats import StatsForecaster
from stockpilot.ingest import m5

D0 = date(2024, 1, 1)


def series(uid: str, values: list[float], start: date = D0) -> pl.DataFrame:
    return pl.DataFrame({"unique_id": [uid] * len(values),
                         "ds": [start + timedelta(days=i) for i in range(len(values))],
                         "y": [float(v) for v in values]})


@pytest.fixture(scope="module")
def hobbies(shared_data) -> pl.DataFrame:
    """20 real intermittent M5 series (CA_3 HOBBIES_2), full history."""
    cal = m5.read_calendar(shared_data / "m5" / "calendar.csv.gz")
    wide = m5.read_daily_wide(shared_data / "m5" / "daily" / "sales_CA_3_HOBBIES_2.csv.gz")
    return prepare(to_long(m5.wide_to_long(wide.head(20), cal))).df


def test_demand_classes_follow_syntetos_boylan():
    df = pl.concat([
        series("smooth", [5, 6, 5, 4, 5, 6] * 10),
        series("erratic", [1, 20, 2, 30, 1, 25] * 10),
        series("intermittent", [0, 0, 5, 0, 0, 5] * 10),
        series("lumpy", [0, 0, 1, 0, 0, 40] * 10),
        series("zero", [0] * 60),
    ])
    got = dict(demand_classes(df).select("unique_id", "demand_class").iter_rows())
    assert got == {k: k for k in ("smooth", "erratic", "intermittent", "lumpy", "zero")}


def test_prepare_fills_gaps_clips_returns_and_reports():
    df = pl.DataFrame({"unique_id": ["a", "a", "a", "b"],
                       "ds": [D0, D0 + timedelta(days=3), D0 + timedelta(days=4), D0],
                       "y": [2.0, -1.0, None, 0.0]})
    p = prepare(df)
    a = p.df.filter(pl.col("unique_id") == "a")["y"].to_list()
    assert a == [2.0, 0.0, 0.0, 0.0, 0.0]
    assert p.all_zero == ["b"]
    assert any("negative" in n for n in p.notes) and any("missing days" in n for n in p.notes)
    with pytest.raises(StockpilotError):
        prepare(df.head(0))


def test_wrapper_point_forecast_equals_statsforecast_called_directly(hobbies):
    from statsforecast import StatsForecast
    from statsforecast.models import CrostonOptimized

    ours = StatsForecaster("CrostonOptimized", horizon=28, n_windows=2).fit(hobbies).predict(28)
    direct = StatsForecast(models=[CrostonOptimized()], freq="1d").forecast(df=hobbies, h=28)
    joined = ours.join(direct, on=["unique_id", "ds"])
    assert joined.height == 20 * 28
    np.testing.assert_allclose(joined["mean"], joined["CrostonOptimized"].clip(lower_bound=0))


def test_quantiles_are_non_negative_and_monotone(hobbies):
    fc = StatsForecaster("SeasonalNaive", horizon=14, n_windows=3).fit(hobbies).predict(14)
    q = fc.select(QUANTILE_COLUMNS).to_numpy()
    assert (q >= 0).all()
    assert (np.diff(q, axis=1) >= -1e-9).all()


def test_conformal_offsets_recover_a_known_distribution():
    rng = np.random.default_rng(3)
    ids = [f"s{i}" for i in range(50)]
    y = rng.poisson(5.0, size=(50, 400))
    resid = pl.DataFrame({"unique_id": np.repeat(ids, 400), "resid": (y - 5.0).ravel()})
    scale = pl.DataFrame({"unique_id": ids, "scale": [5.0] * 50})
    off = residual_quantiles(resid, scale)
    point = pl.DataFrame({"unique_id": ids, "ds": [D0] * 50, "mean": [5.0] * 50})
    q = apply_offsets(point, off)
    # Poisson(5): 97.5% quantile 10, median 5
    assert q["q0.975"].mean() == pytest.approx(10, abs=0.6)
    assert q["q0.5"].mean() == pytest.approx(5, abs=0.3)


def test_interval_errors_sum_runs_of_days():
    cv = pl.DataFrame({"unique_id": ["a"] * 4, "cutoff": [D0] * 4, "h": [1, 2, 3, 4],
                       "y": [1.0, 2.0, 3.0, 4.0], "mean": [1.0, 1.0, 1.0, 1.0]})
    assert interval_errors(cv, 2)["resid"].to_list() == [1.0, 3.0, 5.0]


def test_lead_time_quantiles_cover_the_sum(hobbies):
    f = StatsForecaster("TSB", horizon=14, n_windows=3).fit(hobbies)
    ltd = lead_time_quantiles(f.predict(14), f.cv_, hobbies, 14)
    assert ltd.height == 20 and (ltd["days"] == 14).all()
    q = ltd.select(QUANTILE_COLUMNS).to_numpy()
    assert (q >= 0).all() and (np.diff(q, axis=1) >= -1e-9).all()


def test_lightgbm_global_model_gives_calibrated_shape(hobbies):
    from stockpilot.forecast.lgbm import LGBMForecaster

    f = LGBMForecaster(horizon=14, n_windows=2, n_estimators=30, num_threads=1).fit(hobbies)
    fc = f.predict(14)
    assert fc.height == 20 * 14 and fc["ds"].min() == hobbies["ds"].max() + timedelta(days=1)
    q = fc.select(QUANTILE_COLUMNS).to_numpy()
    assert (q >= 0).all() and (np.diff(q, axis=1) >= -1e-9).all()
    assert set(f.cv_["h"].unique()) == set(range(1, 15))


def test_series_too_short_to_cross_validate_still_get_forecasts():
    df = pl.concat([series("a", [1, 0, 2, 0, 3] * 4), series("b", [0, 1] * 10)])
    f = StatsForecaster("SeasonalNaive", horizon=28, n_windows=3).fit(df)
    assert f.cv_.is_empty()
    fc = f.predict(7)
    assert fc.height == 14
    assert (fc["q0.995"] == fc["mean"]).all()  # no errors to learn a spread from


def test_a_series_too_short_to_cross_validate_borrows_the_pooled_spread(hobbies):
    # a product listed 20 days ago has no rolling-origin errors of its own; it must still get
    # an interval (pooled scaled errors × its level), not the zero-width [mean, mean]
    new = series("new", [1, 0, 2, 0, 3] * 4, start=hobbies["ds"].max() - timedelta(days=19))
    f = StatsForecaster("SeasonalNaive", horizon=14, n_windows=2).fit(pl.concat([hobbies, new]))
    assert "new" not in f.cv_["unique_id"].to_list()
    fc = f.predict(14).filter(pl.col("unique_id") == "new")
    assert (fc["q0.995"] > fc["mean"]).all() and (fc["q0.995"] > fc["q0.005"]).all()
