"""``stockpilot benchmark m5``: fit up to a day, write M5 submission files, score when possible.

Takes a directory laid out like ``shared/data/m5`` (calendar, sell_prices, ``daily/*.csv[.gz]``
in the M5 wide layout), fits on days up to and including ``--train-end``, and writes
``forecast.csv`` (M5 accuracy layout: ``id,F1..Fh``) and ``quantiles.csv`` (M5 uncertainty
layout: ``id`` suffixed ``_0.005`` … ``_0.995``, ``F1..Fh``). LightGBM gets the calendar and
price covariates of :mod:`stockpilot.forecast.features`. When the data holds the true days
after ``--train-end``, it scores them with WRMSSE and WSPL over the levels the files have
(total, store-department, item-store), dollar-weighted with the real prices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import polars as pl

from stockpilot.domain.series import split_unique_id, unique_id
from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.forecast.data import prepare
from stockpilot.forecast.features import m5_covariates
from stockpilot.forecast.metrics import wrmsse_wspl
from stockpilot.forecast.selection import forecast_frame
from stockpilot.ingest import m5

DEFAULT_MODELS = ("SeasonalNaive", "CrostonOptimized", "TSB", "WindowAverage28", "LightGBM")
LEVELS = {"total": [], "store_dept": ["store", "dept"], "item_store": ["unique_id"]}


@dataclass(frozen=True)
class M5Data:
    """Daily demand (``unique_id, ds, y``), the M5 id per series, daily prices, the calendar."""

    df: pl.DataFrame
    ids: pl.DataFrame  # unique_id, id (M5 id, e.g. FOODS_3_001_TX_3_evaluation)
    prices: pl.DataFrame  # unique_id, ds, sell_price
    calendar: pl.DataFrame


def load(directory: Path) -> M5Data:
    """Read the M5 directory (only the series in ``daily/`` and their prices)."""
    cal_path = m5.find_file(directory, "calendar")
    price_path = m5.find_file(directory, "sell_prices")
    if cal_path is None or price_path is None or not m5.daily_files(directory):
        raise StockpilotError(f"{directory}: needs calendar.csv[.gz], sell_prices.csv[.gz] and "
                              "daily/*.csv[.gz]")
    cal = m5.read_calendar(cal_path)
    wides = [m5.read_daily_wide(p) for p in m5.daily_files(directory)]
    ids = pl.concat([w.select(unique_id("item_id", "store_id"), "id") for w in wides])
    df = pl.concat([m5.wide_to_long(w, cal) for w in wides]).select(
        unique_id(),
        pl.col("date").alias("ds"), pl.col("units").cast(pl.Float64).alias("y"))
    prices = (m5.read_prices(price_path)
              .with_columns(unique_id())
              .join(ids, on="unique_id", how="semi")
              .join(cal.select("date", "wm_yr_wk"), on="wm_yr_wk")
              .select("unique_id", pl.col("date").alias("ds"), "sell_price"))
    return M5Data(df, ids, prices, cal)


def day_of(data: M5Data, d: str) -> date:
    """The date of an M5 day ``d_N``."""
    if not d.startswith("d_") or not d[2:].isdigit():
        raise StockpilotError(f"--train-end {d!r}: give an M5 day like d_1885")
    hit = data.calendar.filter(pl.col("d") == int(d[2:]))
    if hit.is_empty():
        raise StockpilotError(f"{d} is not in the calendar")
    return cast(date, hit["date"][0])


def run(directory: Path, train_end: str, horizon: int, out: Path,
        models: Sequence[str] = DEFAULT_MODELS, n_windows: int = 3,
        progress: Callable[[str], None] | None = None) -> dict[str, float] | None:
    """Fit, write both files, and return WRMSSE/WSPL when the true days are in the data.

    WSPL takes the aggregate levels' quantiles from their own backtest errors
    (:func:`aggregate_quantiles`); ``wspl*_bottom_up`` sums the item quantiles instead.
    """
    data = load(directory)
    end = day_of(data, train_end)
    train = data.df.filter(pl.col("ds") <= end)
    covariates = m5_covariates(data.calendar, data.prices, data.ids["unique_id"],
                               train["ds"].min(),  # type: ignore[arg-type]
                               end + timedelta(days=horizon))
    result = forecast_frame(prepare(train, end), models, horizon, n_windows,
                            progress, covariates)
    fc = result.forecasts
    out.mkdir(parents=True, exist_ok=True)
    write_submission(fc, data.ids, horizon, out)
    actual = data.df.filter((pl.col("ds") > end) &
                            (pl.col("ds") <= end + timedelta(days=horizon)))
    if actual.select("ds").n_unique() < horizon:
        return None
    test = actual.join(fc.select("unique_id", "ds", "mean", *[qcol(t) for t in QUANTILES]),
                       on=["unique_id", "ds"], how="left").fill_null(0.0)
    scores = score(train, test, data.prices, aggregate_quantiles(fc, result.cv))
    bottom_up = score(train, test, data.prices)
    return scores | {f"{k}_bottom_up": v for k, v in bottom_up.items() if k.startswith("wspl")}


def write_submission(fc: pl.DataFrame, ids: pl.DataFrame, horizon: int, out: Path) -> None:
    """``forecast.csv`` (``id,F1..Fh``) and ``quantiles.csv`` (ids suffixed by level)."""
    step = fc.with_columns(pl.col("ds").rank("dense").over("unique_id").cast(pl.Int32)
                           .alias("step")).join(ids, on="unique_id")

    def wide(value: str, suffix: str) -> pl.DataFrame:
        w = step.pivot(on="step", index="id", values=value, sort_columns=True)
        w = w.rename({str(i): f"F{i}" for i in range(1, horizon + 1)})
        return w.with_columns((pl.col("id") + suffix).alias("id")) \
            .select("id", *[f"F{i}" for i in range(1, horizon + 1)])

    wide("mean", "").sort("id").write_csv(out / "forecast.csv")
    parts = [wide(qcol(t), f"_{t:.3f}") for t in QUANTILES]
    pl.concat(parts).sort("id").write_csv(out / "quantiles.csv")


def with_keys(df: pl.DataFrame) -> pl.DataFrame:
    """Add the store and department of each ``ITEM@STORE`` series."""
    item, store = split_unique_id()
    return df.with_columns(store.alias("store"),
                           item.str.split("_").list.slice(0, 2).list.join("_").alias("dept"))


def score(train: pl.DataFrame, test: pl.DataFrame, prices: pl.DataFrame,
          level_q: dict[str, pl.DataFrame] | None = None) -> dict[str, float]:
    """WRMSSE and WSPL over total, store-department and item-store, dollar weights.

    ``level_q``: the aggregate levels' own quantiles (see ``metrics.level_quantiles``) instead
    of summed item quantiles.
    """
    tr = with_keys(train.join(prices, on=["unique_id", "ds"], how="left").with_columns(
        (pl.col("y") * pl.col("sell_price").fill_null(0.0)).alias("dollars")))
    return wrmsse_wspl(tr, with_keys(test), LEVELS, value="dollars", level_q=level_q)


def aggregate_quantiles(forecast: pl.DataFrame, cv: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Total and store-department quantiles from their own backtest errors."""
    from stockpilot.forecast.metrics import level_quantiles

    return {name: level_quantiles(with_keys(forecast), with_keys(cv), ids)
            for name, ids in LEVELS.items() if ids != ["unique_id"]}
