"""Monthly forecasts of the M5 item-store series: ours vs SeasonalNaive vs AutoETS.

    python benchmarks/forecast_m5_monthly.py [--data ../shared/data] [--item-share 1.0]
        [--windows 3] [--horizon 3] [--ets/--no-ets]

Data: the real monthly totals of all 30,490 M5 item-store series (d_1..d_1913), complete months
only (2011-02 … 2016-03: 2011-01 holds 3 days and 2016-04 24). ``--item-share`` keeps a seeded
share of the 3,049 items, each in all ten stores, so every level of the hierarchy stays whole.
Rolling origin: the last ``windows`` blocks of ``horizon`` months; every method is fitted on the
months before each block. Scored with the M5 WRMSSE and WSPL over all twelve M5 levels (total,
state, store, category, department, state×category, state×department, store×category,
store×department, item, item×state, item×store); weights are each series' dollar sales in the
last training month (units × that month's day-weighted mean sell price — the M5 rule of "the
last 28 training days", which on the first-of-month dates here is exactly the last month);
upper levels sum the bottom forecasts and quantiles, as :mod:`stockpilot.forecast.metrics` does.
Coverage is measured on the item-store series. Methods:
  * sNaive: statsforecast SeasonalNaive(12), quantiles from its own rolling-origin errors;
  * ETS: statsforecast AutoETS(12) per series with its Gaussian intervals (M5's "ES_bu"; a
    series too short for ETS gets the historic average and its intervals);
  * ours: per-series choice by rolling-origin error among SeasonalNaive(12), AutoETS (smooth
    and erratic series only), CrostonOptimized, TSB, ADIDA and IMAPA (intermittent and lumpy
    only), conformal quantiles from the chosen model's errors.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.forecast.conformal import monotone
from stockpilot.forecast.data import Prepared
from stockpilot.forecast.metrics import coverage, wrmsse_wspl
from stockpilot.forecast.selection import forecast_frame
from stockpilot.forecast.stats import StatsForecaster
from stockpilot.ingest import m5

ROOT = Path(__file__).resolve().parents[1]
OURS = ("SeasonalNaive", "AutoETS", "CrostonOptimized", "TSB", "ADIDA", "IMAPA")
KEYS = ["item_id", "dept_id", "cat_id", "store_id", "state_id"]
LEVELS = {
    "total": [], "state": ["state_id"], "store": ["store_id"], "cat": ["cat_id"],
    "dept": ["dept_id"], "state_cat": ["state_id", "cat_id"],
    "state_dept": ["state_id", "dept_id"], "store_cat": ["store_id", "cat_id"],
    "store_dept": ["store_id", "dept_id"], "item": ["item_id"],
    "item_state": ["item_id", "state_id"], "item_store": ["item_id", "store_id"],
}
FIRST, LAST = pl.date(2011, 2, 1), pl.date(2016, 3, 1)


def load(data: Path, item_share: float, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(monthly ``unique_id, ds, y`` + keys, monthly prices ``unique_id, ds, price``)."""
    monthly = m5.read_monthly(data / "m5" / "monthly_sales_item_store.csv.gz")
    items = monthly["sku"].unique().sort()
    if item_share < 1:
        items = items.sample(fraction=item_share, seed=seed).sort()
    df = monthly.filter(pl.col("sku").is_in(items.implode()),
                        pl.col("month").is_between(FIRST, LAST)).select(
        (pl.col("sku") + "@" + pl.col("location")).alias("unique_id"),
        pl.col("month").alias("ds"), pl.col("units").cast(pl.Float64).alias("y"),
        pl.col("sku").alias("item_id"), "dept_id", "cat_id",
        pl.col("location").alias("store_id"), "state_id")
    cal = m5.read_calendar(data / "m5" / "calendar.csv.gz")
    week_months = cal.group_by("wm_yr_wk", pl.col("date").dt.truncate("1mo").alias("ds")) \
        .agg(pl.len().alias("days"))
    prices = (m5.read_prices(data / "m5" / "sell_prices.csv.gz")
              .filter(pl.col("sku").is_in(items.implode()))
              .join(week_months, on="wm_yr_wk")
              .group_by(pl.col("sku") + "@" + pl.col("location"), "ds")
              .agg(((pl.col("sell_price") * pl.col("days")).sum() / pl.col("days").sum())
                   .alias("price"))
              .rename({"sku": "unique_id"}))
    return df, prices


def prepared(train: pl.DataFrame, end: object) -> Prepared:
    """Monthly series from their first sale (the daily ``prepare`` fills days, not months)."""
    live = train.sort("unique_id", "ds").filter(
        (pl.col("y") > 0).cum_max().over("unique_id"))
    zero = sorted(set(train["unique_id"].unique()) - set(live["unique_id"].unique()))
    return Prepared(live.select("unique_id", "ds", "y"), end, [], zero)  # type: ignore[arg-type]


def ets_gaussian(train: pl.DataFrame, h: int) -> pl.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, HistoricAverage

    levels = sorted({round(abs(2 * t - 1) * 100, 1) for t in QUANTILES} - {0.0})
    fc = StatsForecast(models=[AutoETS(season_length=12)], freq="1mo",
                       fallback_model=HistoricAverage()).forecast(df=train, h=h, level=levels)
    cols = {}
    for t in QUANTILES:
        lv = round(abs(2 * t - 1) * 100, 1)
        side = "lo" if t < 0.5 else "hi"
        name = "AutoETS" if lv == 0 else f"AutoETS-{side}-{lv}"
        cols[qcol(t)] = pl.col(name).clip(lower_bound=0)
    out = fc.select("unique_id", "ds", pl.col("AutoETS").clip(lower_bound=0).alias("mean"),
                    **cols)
    return monotone(out, [qcol(t) for t in QUANTILES])


def main() -> None:
    warnings.filterwarnings("ignore", category=UserWarning)
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--item-share", type=float, default=1.0)
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument("--horizon", type=int, default=3)
    ap.add_argument("--ets", action=argparse.BooleanOptionalAction, default=True)
    args = ap.parse_args()
    df, prices = load(args.data, args.item_share)
    months = df["ds"].unique().sort()
    results: dict[str, list[dict[str, float]]] = {}
    tests: dict[str, list[pl.DataFrame]] = {}
    timing: dict[str, float] = {}
    qs = [qcol(t) for t in QUANTILES]
    for w in range(args.windows, 0, -1):
        cutoff = months[len(months) - 1 - w * args.horizon]
        train = df.filter(pl.col("ds") <= cutoff)
        actual = df.filter(pl.col("ds") > cutoff).filter(
            pl.col("ds") <= months[len(months) - 1 - (w - 1) * args.horizon])
        prep = prepared(train, cutoff)
        methods = {
            "sNaive": lambda p=prep: StatsForecaster("SeasonalNaive", season_length=12,
                                                     horizon=args.horizon, freq="1mo")
            .fit(p.df).predict(args.horizon),
            "ours": lambda p=prep: forecast_frame(p, OURS, args.horizon, 3, freq="1mo",
                                                  season_length=12).forecasts,
        }
        if args.ets:
            methods["ETS"] = lambda p=prep: ets_gaussian(p.df, args.horizon)
        tr = train.join(prices, on=["unique_id", "ds"], how="left").with_columns(
            (pl.col("y") * pl.col("price").fill_null(0.0)).alias("dollars"))
        for name, fn in methods.items():
            print(f"window after {cutoff}: {name}", file=sys.stderr)
            t0 = time.perf_counter()
            fc = fn()
            timing[name] = timing.get(name, 0.0) + time.perf_counter() - t0
            test = actual.join(fc.select("unique_id", "ds", "mean", *qs),
                               on=["unique_id", "ds"], how="left").fill_null(0.0)
            results.setdefault(name, []).append(
                wrmsse_wspl(tr, test, LEVELS, value="dollars"))
            tests.setdefault(name, []).append(test)
    report(args, df, results, tests, timing)


def report(args: argparse.Namespace, df: pl.DataFrame, results: dict[str, list[dict[str, float]]],
           tests: dict[str, list[pl.DataFrame]], timing: dict[str, float]) -> None:
    n = df["unique_id"].n_unique()
    print(f"# M5 monthly, {n} item-store series ({df['item_id'].n_unique()} items × "
          f"{df['store_id'].n_unique()} stores), {args.windows} × {args.horizon}-month windows "
          f"ending {df['ds'].max():%Y-%m} — {machine()}")
    print("| method | WRMSSE | × sNaive | WSPL | × sNaive | fit+predict s (all windows) |")
    print("|---|---|---|---|---|---|")
    base = {k: np.mean([r[k] for r in results["sNaive"]]) for k in ("wrmsse", "wspl")}
    for name, rows in results.items():
        wr, ws = np.mean([r["wrmsse"] for r in rows]), np.mean([r["wspl"] for r in rows])
        print(f"| {name} | {wr:.3f} | {wr / base['wrmsse']:.2f} | {ws:.3f} | "
              f"{ws / base['wspl']:.2f} | {timing[name]:.0f} |")
    print("\nWRMSSE per level (mean over windows):")
    print("| level | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for lv in LEVELS:
        cells = [f"{np.mean([r[f'wrmsse_{lv}'] for r in rows]):.3f}" for rows in results.values()]
        print(f"| {lv} | " + " | ".join(cells) + " |")
    print("\ncoverage P(y ≤ q) / P(y < q) per quantile level (item-store series):")
    print("| level | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    covs = {k: coverage(pl.concat(t)) for k, t in tests.items()}
    for i, t in enumerate(QUANTILES):
        cells = [f"{covs[k]['p_le'][i]:.3f} / {covs[k]['p_lt'][i]:.3f}" for k in results]
        print(f"| {t} | " + " | ".join(cells) + " |")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"command: python benchmarks/forecast_m5_monthly.py --item-share {args.item_share} "
          f"--windows {args.windows} --horizon {args.horizon}"
          f"{'' if args.ets else ' --no-ets'}")


if __name__ == "__main__":
    main()
