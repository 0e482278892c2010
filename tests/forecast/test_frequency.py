"""Weekly and monthly forecasting: complete periods only, stored monthly totals, the run."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from stockpilot.errors import StockpilotError
from stockpilot.forecast.data import prepare
from stockpilot.forecast.frequency import frequency, from_monthly, to_periods
from stockpilot.forecast.pipeline import run_forecast
from stockpilot.store.history import HistoryStore

START = date(2023, 1, 2)  # a Monday


def _daily(days: int) -> pl.DataFrame:
    return pl.DataFrame({"unique_id": "A@S", "ds": [START + timedelta(days=i)
                                                    for i in range(days)],
                         "y": [float(i % 7) for i in range(days)]})


def test_weeks_sum_days_and_drop_the_incomplete_last_week():
    prep = to_periods(prepare(_daily(7 * 10 + 3)), frequency("W"))
    assert prep.df.height == 10 and (prep.df["y"] == 21.0).all()
    assert prep.end == START + timedelta(weeks=9)
    assert prep.df["ds"].dt.weekday().unique().to_list() == [1]


def test_months_keep_a_complete_last_month():
    prep = to_periods(prepare(_daily(365 - 1)), frequency("M"))  # 2023-01-02 … 2023-12-31
    assert prep.end == date(2023, 12, 1)
    assert prep.df.height == 12


def test_stored_monthly_totals_drop_partial_months_and_silent_series():
    m = pl.DataFrame({"sku": ["A"] * 3 + ["B"] * 3, "location": "S",
                      "month": [date(2016, 3, 1), date(2016, 4, 1), date(2016, 5, 1)] * 2,
                      "n_days": [31, 30, 10] * 2, "units": [5, 6, 1, 0, 0, 0]})
    prep = from_monthly(m)
    assert prep.df["unique_id"].unique().to_list() == ["A@S"]
    assert prep.end == date(2016, 4, 1) and prep.all_zero == ["B@S"]


def test_unknown_frequency_and_global_models_are_refused(tmp_path):
    with pytest.raises(StockpilotError):
        frequency("Q")
    history = HistoryStore(tmp_path)
    with pytest.raises(StockpilotError, match="daily only"):
        run_forecast(history, models=["LightGBM"], freq="W")


def test_weekly_run_writes_its_own_parts_and_leaves_daily_alone(tmp_path):
    history = HistoryStore(tmp_path)
    d = _daily(7 * 60)
    history.write_daily("import", d.select(pl.lit("A").alias("sku"), pl.lit("S").alias("location"),
                                           pl.col("ds").alias("date"),
                                           pl.col("y").cast(pl.Int32).alias("units")))
    run = run_forecast(history, horizon=8, models=["SeasonalNaive", "WindowAverage28"],
                       n_windows=2, freq="W")
    fc = history.read("forecasts", "latest_weekly")
    assert run.freq == "W" and fc.height == 8
    assert fc["ds"].min() == START + timedelta(weeks=60)
    assert (fc["ds"].diff().drop_nulls() == timedelta(weeks=1)).all()
    assert "latest" not in history.parts("forecasts")
