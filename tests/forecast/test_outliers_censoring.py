"""Outlier flags against a seasonal baseline; censored (stockout) days imputed, and it matters."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from stockpilot.forecast.censoring import impute_censored
from stockpilot.forecast.data import prepare, to_long
from stockpilot.forecast.outliers import flag_outliers, winsorise
from stockpilot.forecast.stats import StatsForecaster
from stockpilot.ingest import m5

D0 = date(2024, 1, 1)


def weekly(values: list[float], uid: str = "a") -> pl.DataFrame:
    return pl.DataFrame({"unique_id": [uid] * len(values),
                         "ds": [D0 + timedelta(days=i) for i in range(len(values))],
                         "y": values})


def test_spike_is_flagged_and_winsorised_not_dropped():
    values = [float(10 + (i % 7)) for i in range(140)]
    values[100] = 400.0
    flags = flag_outliers(weekly(values))
    assert flags.filter(pl.col("outlier"))["ds"].to_list() == [D0 + timedelta(days=100)]
    fixed = winsorise(flags)
    assert fixed.height == 140
    assert 10 <= fixed["y"][100] < 400
    assert fixed["y"][99] == values[99]


def test_censoring_imputation_matters_on_a_real_series(shared_data):
    cal = m5.read_calendar(shared_data / "m5" / "calendar.csv.gz")
    wide = m5.read_daily_wide(shared_data / "m5" / "daily" / "sales_TX_3_FOODS_3.csv.gz")
    df = prepare(to_long(m5.wide_to_long(wide.head(1), cal))).df
    uid = df["unique_id"][0]
    end = df["ds"].max()
    out_days = [end - timedelta(days=i) for i in range(2, 30, 2)]  # a run of stockouts
    censored = pl.DataFrame({"unique_id": [uid] * len(out_days), "ds": out_days})
    stocked_out = df.with_columns(pl.when(pl.col("ds").is_in(out_days)).then(0.0)
                                  .otherwise(pl.col("y")).alias("y"))
    imputed = impute_censored(stocked_out, censored)
    truth = StatsForecaster("WindowAverage28", horizon=7, n_windows=1).fit(df).predict(7)
    naive = StatsForecaster("WindowAverage28", horizon=7, n_windows=1).fit(stocked_out) \
        .predict(7)
    fixed = StatsForecaster("WindowAverage28", horizon=7, n_windows=1).fit(imputed).predict(7)
    err_naive = abs(naive["mean"].sum() - truth["mean"].sum())
    err_fixed = abs(fixed["mean"].sum() - truth["mean"].sum())
    assert err_fixed < 0.5 * err_naive, (err_fixed, err_naive)
