"""The zero-run rule that flags probable stockouts in imported histories (M5)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from stockpilot.forecast.censoring import probable_stockouts


def _series(uid: str, y: list[float]) -> pl.DataFrame:
    start = date(2024, 1, 1)
    return pl.DataFrame({"unique_id": uid, "ds": [start + timedelta(days=i)
                                                  for i in range(len(y))], "y": y})


def test_a_long_run_inside_steady_selling_is_flagged_and_nothing_else():
    steady = [3.0] * 40 + [0.0] * 8 + [2.0] * 20      # sells daily, then 8 zero days
    short = [3.0] * 40 + [0.0] * 5 + [2.0] * 20       # 5 days: below the 7-day minimum
    sparse = ([1.0, 0, 0, 0, 0] * 8) + [0.0] * 8 + [1.0] * 5   # sells 1 day in 5
    trailing = [3.0] * 40 + [0.0] * 20                # delisted at the end: not inside
    offrange = [3.0] * 40 + [0.0] * 60 + [2.0] * 5    # 60 days: off the range
    df = pl.concat([_series("steady", steady), _series("short", short),
                    _series("sparse", sparse), _series("trailing", trailing),
                    _series("offrange", offrange)])
    got = probable_stockouts(df)
    assert got["unique_id"].unique().to_list() == ["steady"]
    assert got.height == 8 and got["run_days"].unique().to_list() == [8]
    assert got["ds"].min() == date(2024, 1, 1) + timedelta(days=40)
    assert got["p_sale"][0] == 1.0


def test_the_threshold_follows_the_selling_rate():
    # half the days sell: (1/2)^L < 0.001 needs L ≥ 10
    half = [0.0, 2.0] * 20
    nine = _series("nine", half + [0.0] * 9 + [2.0] * 3)
    ten = _series("ten", half + [0.0] * 10 + [2.0] * 3)
    got = probable_stockouts(pl.concat([nine, ten]))
    assert got["unique_id"].unique().to_list() == ["ten"]


def test_the_forecast_run_imputes_flagged_runs(tmp_path):
    from stockpilot.forecast.pipeline import run_forecast
    from stockpilot.store.history import HistoryStore

    y = ([4] * 60 + [0] * 14 + [4] * 30)
    start = date(2024, 1, 1)
    daily = pl.DataFrame({"sku": "A", "location": "S", "date": [
        start + timedelta(days=i) for i in range(len(y))], "units": y},
        schema_overrides={"units": pl.Int32})
    history = HistoryStore(tmp_path)
    history.write_daily("import", daily)
    run = run_forecast(history, horizon=7, models=["WindowAverage28"], n_windows=1,
                       censor_zero_runs=True)
    assert any("14 days in 1 series flagged as probable stockouts" in n for n in run.notes)
    assert history.read("forecasts", "probable_stockouts").height == 14
