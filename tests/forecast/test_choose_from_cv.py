"""One cross-validation over the union of cutoffs gives what refitting in each window gives.

Real M5 monthly series (long and newly listed, smooth and intermittent): ``forecast_frame``
cross-validating and refitting on the history before a cutoff, against ``choose_from_cv``
(benchmarks/cv_choice.py) fed the windows of one statsforecast cross-validation on the longer
history that reaches past it.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from statsforecast import StatsForecast
from statsforecast.models import HistoricAverage

from stockpilot.forecast.classify import demand_classes
from stockpilot.forecast.data import Prepared
from stockpilot.forecast.selection import forecast_frame
from stockpilot.forecast.stats import build_model
from stockpilot.ingest import m5

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from cv_choice import choose_from_cv  # benchmarks/ is not a package

MODELS = ("SeasonalNaive", "AutoETS", "CrostonOptimized", "TSB", "ADIDA", "IMAPA")
H, INNER, SEASON = 3, 3, 12
CUTOFF, END = date(2015, 12, 1), date(2016, 3, 1)


def _trimmed(df: pl.DataFrame) -> pl.DataFrame:
    """Months from each series' first sale (as the monthly benchmark prepares them)."""
    return df.sort("unique_id", "ds").filter((pl.col("y") > 0).cum_max().over("unique_id"))


@pytest.fixture(scope="module")
def history(shared_data) -> pl.DataFrame:
    """24 real series up to 2016-03: long and short, grocery and hobby, a few months old."""
    monthly = m5.read_monthly(shared_data / "m5" / "monthly_sales_item_store.csv.gz")
    df = monthly.filter(pl.col("month").is_between(date(2011, 2, 1), END)).select(
        (pl.col("sku") + "@" + pl.col("location")).alias("unique_id"),
        pl.col("month").alias("ds"), pl.col("units").cast(pl.Float64).alias("y"),
        pl.col("location"), pl.col("dept_id"))
    lengths = _trimmed(df).group_by("unique_id").len()
    long = lengths.filter(pl.col("len") > 40)["unique_id"]
    hobbies = df.filter(pl.col("location") == "CA_3", pl.col("dept_id") == "HOBBIES_2",
                        pl.col("unique_id").is_in(long.implode()))
    sparse = demand_classes(hobbies.filter(pl.col("ds") <= CUTOFF)).filter(
        pl.col("demand_class").is_in(["intermittent", "lumpy"]))["unique_id"].sort()
    picks = [
        *df.filter(pl.col("location") == "TX_3", pl.col("dept_id") == "FOODS_3",
                   pl.col("unique_id").is_in(long.implode()))["unique_id"].unique().sort()[:6],
        *sparse[:6],
        # newly listed: too short for the inner windows, some too short for AutoETS itself
        *lengths.filter(pl.col("len").is_between(4, 36)).sort("len", "unique_id")
        .gather_every(40)["unique_id"][:12],
    ]
    return _trimmed(df.filter(pl.col("unique_id").is_in(picks)).select("unique_id", "ds", "y"))


def _shared_cv(name: str, history: pl.DataFrame) -> pl.DataFrame:
    """One statsforecast CV per model: each series at the last 1 + INNER cutoffs it can fill."""
    lengths = history.group_by("unique_id").len().with_columns(
        ((pl.col("len") - 1) // H).clip(upper_bound=INNER + 1).alias("k"))
    out = []
    for (k,), ids in lengths.filter(pl.col("k") > 0).group_by("k"):
        sf = StatsForecast(models=[build_model(name, SEASON)], freq="1mo",
                           fallback_model=HistoricAverage())
        out.append(sf.cross_validation(df=history.join(ids, on="unique_id", how="semi"),
                                       h=H, n_windows=int(k), step_size=H))
    return pl.concat(out)


def test_choice_and_quantiles_from_one_cv_equal_refitting(history):
    before = history.filter(pl.col("ds") <= CUTOFF)
    prep = Prepared(before, CUTOFF, [], [])
    classes = set(demand_classes(before)["demand_class"])
    assert classes & {"smooth", "erratic"} and classes & {"intermittent", "lumpy"}
    lengths = before.group_by("unique_id").len()
    long = lengths.filter(pl.col("len") > H * INNER + 2 * SEASON).select("unique_id")
    assert 0 < long.height < lengths.height  # some series have inner windows, some do not
    refit = forecast_frame(prep, MODELS, H, INNER, freq="1mo", season_length=SEASON)

    inner, point = {}, {}
    for name in MODELS:
        cv = _shared_cv(name, history)
        inner[name] = cv.filter(pl.col("cutoff") < CUTOFF).join(
            long, on="unique_id", how="semi").select(
            "unique_id", "cutoff", "ds",
            pl.col("ds").rank("dense").over("unique_id", "cutoff").cast(pl.Int32).alias("h"),
            "y", pl.col(name).clip(lower_bound=0.0).alias("mean")
        ).filter(pl.col("mean").is_not_nan() & pl.col("mean").is_not_null())
        point[name] = cv.filter(pl.col("cutoff") == CUTOFF).select(
            "unique_id", "ds", pl.col(name).fill_nan(0.0).clip(lower_bound=0.0).alias("mean"))
    shared = choose_from_cv(prep, MODELS, inner, point, H, freq="1mo")

    close = {"check_exact": False, "rel_tol": 0, "abs_tol": 1e-9}
    assert_frame_equal(shared.choice.sort("unique_id"), refit.choice.sort("unique_id"),
                       check_column_order=False, **close)
    assert_frame_equal(shared.forecasts, refit.forecasts, **close)
    keys = ["unique_id", "cutoff", "ds"]
    assert_frame_equal(shared.cv.sort(keys), refit.cv.sort(keys), **close)
    assert refit.forecasts["unique_id"].n_unique() == history["unique_id"].n_unique()
    assert {f"mse_{m}" for m in MODELS} <= set(refit.choice.columns)  # all cross-validated
