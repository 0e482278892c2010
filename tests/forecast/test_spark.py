"""``--engine spark`` agrees with the local engine on real M5 series (CONVENTIONS §15).

Spark runs in local mode (``local[2]``); the tests skip without the ``spark`` extra.
"""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from stockpilot.forecast import selection
from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.stats import StatsForecaster

pytest.importorskip("pyspark")
pytest.importorskip("fugue_spark")

from stockpilot.forecast.spark import SparkStatsForecaster, spark_session

N_SERIES, N_DAYS, H = 20, 200, 28
# statsforecast's fugue backend returns float32 (spark.py's module docstring)
TOL = {"check_exact": False, "rel_tol": 1e-5, "abs_tol": 1e-4}


@pytest.fixture(scope="module")
def daily(shared_data) -> pl.DataFrame:
    """20 real TX_3/FOODS_3 series, their last 200 days: ``sku, location, date, units``."""
    from stockpilot.ingest import m5

    cal = m5.read_calendar(shared_data / "m5" / "calendar.csv.gz")
    wide = m5.read_daily_wide(shared_data / "m5" / "daily" / "sales_TX_3_FOODS_3.csv.gz")
    long = m5.wide_to_long(wide.head(N_SERIES), cal)
    return long.filter(pl.col("date") > long["date"].max() - pl.duration(days=N_DAYS))


@pytest.fixture(scope="module")
def history(daily) -> pl.DataFrame:
    return daily.select((pl.col("sku") + "@" + pl.col("location")).alias("unique_id"),
                        pl.col("date").alias("ds"), pl.col("units").cast(pl.Float64)
                        .alias("y")).sort("unique_id", "ds")


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]")
    yield session
    session.stop()


def check_quantiles(fc: pl.DataFrame) -> None:
    q = fc.select(QUANTILE_COLUMNS)
    assert q.min().min_horizontal()[0] >= 0
    for lo, hi in pairwise(QUANTILE_COLUMNS):
        assert (fc[hi] >= fc[lo]).all(), (lo, hi)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["SeasonalNaive", "CrostonOptimized", "AutoETS"])
def test_spark_equals_local_for_statistical_models(spark, history, model):
    local = StatsForecaster(model, horizon=H, n_windows=2).fit(history)
    on_spark = SparkStatsForecaster(model, horizon=H, n_windows=2).fit(history)
    key = ["unique_id", "cutoff", "ds"]
    assert on_spark.cv_.height == local.cv_.height == N_SERIES * 2 * H
    assert_frame_equal(local.cv_.sort(key), on_spark.cv_.sort(key), **TOL)
    assert_frame_equal(local.offsets_.sort("unique_id"), on_spark.offsets_.sort("unique_id"),
                       **TOL)
    a, b = local.predict(H), on_spark.predict(H)
    assert b.height == N_SERIES * H
    assert_frame_equal(a, b, **TOL)
    check_quantiles(b)


@pytest.mark.slow
def test_cli_engine_spark_writes_the_local_engines_forecasts(spark, daily, tmp_path):
    """``stockpilot forecast --engine spark`` end to end; LightGBM (on the driver) included."""
    from stockpilot.cli.common import workspace

    del spark  # the CLI starts its own session (in its own process)
    ws = tmp_path / "shop"
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("STOCKPILOT_DB_URL", None)

    def cli(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "stockpilot", *args, "-w", str(ws)],
                              capture_output=True, text=True, env=env, timeout=600,
                              check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    cli("init")
    history = workspace(ws).history
    history.write_daily("m5", daily)
    models = "SeasonalNaive,CrostonOptimized,TSB,LightGBM"
    common = ("forecast", "--models", models, "--windows", "2", "--horizon", str(H))
    cli(*common, "--engine", "local")
    local = history.read("forecasts", "latest")
    out = cli(*common, "--engine", "spark")
    assert "engine spark" in out
    spark_fc = history.read("forecasts", "latest")
    assert spark_fc.height == N_SERIES * H
    assert_frame_equal(local, spark_fc, **TOL)
    check_quantiles(spark_fc)


def test_spark_forecast_frame_passes_its_factory_and_patches_nothing(monkeypatch):
    """Spark's candidates are handed to forecast_frame as its factory; nothing global changes."""
    from stockpilot.forecast import spark

    local = selection.make_forecaster
    seen = {}

    def boom(*_a, **k):
        seen["factory"] = k.get("factory")
        assert selection.make_forecaster is local
        raise RuntimeError("boom")

    monkeypatch.setattr(spark, "spark_session", lambda *a, **k: None)
    monkeypatch.setattr(selection, "forecast_frame", boom)
    with pytest.raises(RuntimeError, match="boom"):
        spark.forecast_frame(None, ("SeasonalNaive",), H, 1)  # type: ignore[arg-type]
    assert seen["factory"] is spark.make_forecaster
    assert selection.make_forecaster is local
    assert isinstance(spark.make_forecaster("TSB", H, 1), SparkStatsForecaster)
    assert not isinstance(spark.make_forecaster("LightGBM", H, 1), StatsForecaster)


def test_unknown_engine_is_a_usage_error(tmp_path: Path):
    proc = subprocess.run([sys.executable, "-m", "stockpilot", "forecast", "--engine", "ray",
                           "-w", str(tmp_path)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode != 0 and "local, spark or dask" in proc.stdout + proc.stderr
