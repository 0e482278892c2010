"""Metrics on hand-computed cases; the forecast pipeline end to end on the vendored sample."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.metrics import coverage, level_scores, pinball, wrmsse_wspl
from stockpilot.forecast.pipeline import run_forecast
from stockpilot.ingest.online_retail_import import import_online_retail
from stockpilot.store.history import HistoryStore

D0 = date(2024, 1, 1)
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "online_retail_top300.csv.gz"


def days(n: int, start: date = D0) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def test_pinball_by_hand():
    df = pl.DataFrame({"y": [10.0, 10.0], "q": [8.0, 13.0]})
    got = df.select(pinball(pl.col("y"), pl.col("q"), 0.9)).to_series().to_list()
    assert got == pytest.approx([0.9 * 2, 0.1 * 3])


def test_rmsse_by_hand():
    # train 0,2,4,2 from its first non-zero day (2,4,2): naive diffs 2,-2 → scale² = 4
    train = pl.DataFrame({"id": ["a"] * 4, "ds": days(4), "y": [0.0, 2.0, 4.0, 2.0]})
    test = pl.DataFrame({"id": ["a"] * 2, "ds": days(2, D0 + timedelta(days=4)),
                         "y": [3.0, 1.0], "mean": [2.0, 2.0]})
    s = level_scores(train, test, ["id"], quantiles=())
    assert s["rmsse"][0] == pytest.approx(np.sqrt(1.0 / 4.0))


def test_wrmsse_weights_by_last_28_days_and_averages_levels():
    train = pl.concat([
        pl.DataFrame({"id": [i] * 40, "ds": days(40), "y": [float(v)] * 20 + [float(v) + 1] * 20})
        for i, v in (("a", 1), ("b", 3))])
    train = train.with_columns((pl.col("y") + (pl.int_range(pl.len()) % 2)).over("id"))
    test = pl.DataFrame({"id": ["a", "b"], "ds": [D0 + timedelta(days=40)] * 2,
                         "y": [2.0, 4.0], "mean": [2.0, 4.0]})
    got = wrmsse_wspl(train, test, {"series": ["id"], "total": []}, quantiles=())
    assert got["wrmsse"] == pytest.approx(0.0)
    test2 = test.with_columns(pl.lit(0.0).alias("mean"))
    worse = wrmsse_wspl(train, test2, {"series": ["id"]}, quantiles=())
    assert worse["wrmsse"] > 0


def test_coverage_counts_both_sides():
    df = pl.DataFrame({"y": [1.0, 2.0, 3.0], **{c: [2.0] * 3 for c in QUANTILE_COLUMNS}})
    cov = coverage(df)
    row = cov.filter(pl.col("level") == 0.5).row(0, named=True)
    assert (row["p_le"], row["p_lt"]) == pytest.approx((2 / 3, 1 / 3))


@pytest.mark.slow
def test_pipeline_on_the_sample_writes_forecasts_and_a_registry_entry(tmp_path):
    history = HistoryStore(tmp_path / "history")
    import_online_retail(None, SAMPLE, history)
    run = run_forecast(history, horizon=14, models=("SeasonalNaive", "CrostonOptimized", "TSB"),
                       n_windows=2)
    fc = history.read("forecasts", "latest")
    assert fc["unique_id"].n_unique() == run.series == 300
    assert fc.height == 300 * 14 and set(fc["model"]) <= {"SeasonalNaive", "CrostonOptimized",
                                                         "TSB", "zero"}
    assert fc.select(QUANTILE_COLUMNS).min().min_horizontal()[0] >= 0
    assert sum(run.chosen.values()) == 300
    record = json.loads((history.root / "runs" / "latest.json").read_text())
    assert record["run_id"] == run.run_id and record["data_fingerprint"]
    series = history.read("forecasts", "series")
    assert set(series["demand_class"]) <= {"smooth", "erratic", "intermittent", "lumpy", "zero"}


def test_retrain_only_when_error_drifts(tmp_path):
    rng = np.random.default_rng(2)
    history = HistoryStore(tmp_path / "h")
    start = date(2024, 1, 1)
    rows = [(f"S{i}", "W", start + timedelta(days=d), int(rng.poisson(5)))
            for i in range(8) for d in range(150)]
    daily = pl.DataFrame(rows, schema=["sku", "location", "date", "units"], orient="row")
    history.write_daily("t", daily)
    kw = {"horizon": 14, "models": ("SeasonalNaive", "WindowAverage28"), "n_windows": 2}
    first = run_forecast(history, end=start + timedelta(days=135), **kw)
    same = run_forecast(history, retrain_if_drift=1.5, **kw)  # 14 new days, same demand
    assert not same.refit and same.run_id == first.run_id
    jump = daily.with_columns(pl.when(pl.col("date") > start + timedelta(days=135))
                              .then(pl.col("units") * 6).otherwise(pl.col("units"))
                              .alias("units"))
    history.write_daily("t", jump)
    drifted = run_forecast(history, retrain_if_drift=1.5, **kw)
    assert drifted.refit and drifted.run_id != first.run_id
    assert any("drift" in n for n in drifted.notes)
