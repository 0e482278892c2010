"""Forecast accuracy on the real M5 daily store-departments: ours vs SeasonalNaive vs AutoETS.

    python benchmarks/forecast_m5.py [--data ../shared/data] [--windows 3] [--horizon 28]
        [--ets/--no-ets]

Rolling origin: the last ``windows`` blocks of ``horizon`` days of the data we have (ending at
d_1913); each method is fitted on the days before each block. Scored with the M5 WRMSSE and
WSPL over the levels these two store-departments have — total, store-department, item-store —
with dollar weights from the last 28 training days (real sell prices), and the empirical
coverage of every quantile. Methods:
  * sNaive: statsforecast SeasonalNaive(7), quantiles from its own rolling-origin errors;
  * ETS: statsforecast AutoETS per series with its Gaussian intervals (the M5 "ES_bu" idea);
  * ours: a choice among SeasonalNaive, CrostonOptimized, TSB, a 28-day window average and
    a global LightGBM (mlforecast, recursive, M5 covariates) by rolling-origin error — one
    model per demand class by default (``--choice class``; ``--choice series`` for each
    series' own best) — with conformal quantiles from the chosen model's errors; "(level
    quantiles)" scores the aggregates with their own backtest quantiles.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.forecast.conformal import monotone
from stockpilot.forecast.data import prepare
from stockpilot.forecast.features import m5_covariates
from stockpilot.forecast.m5_benchmark import aggregate_quantiles, load, score
from stockpilot.forecast.metrics import coverage
from stockpilot.forecast.selection import forecast_frame
from stockpilot.forecast.stats import StatsForecaster

ROOT = Path(__file__).resolve().parents[1]
FAST = ("SeasonalNaive", "CrostonOptimized", "TSB", "WindowAverage28", "LightGBM")


def ets_gaussian(train: pl.DataFrame, h: int) -> pl.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, Naive

    levels = sorted({round(abs(2 * t - 1) * 100, 1) for t in QUANTILES} - {0.0})
    # a series too short for ETS ("tiny datasets": a product first sold days before the
    # cut-off) takes the naive forecast, as statsforecast's fallback
    fc = StatsForecast(models=[AutoETS(season_length=7)], freq="1d",
                       fallback_model=Naive()).forecast(df=train, h=h, level=levels)
    cols = {}
    for t in QUANTILES:
        lv = round(abs(2 * t - 1) * 100, 1)
        side = "lo" if t < 0.5 else "hi"
        name = "AutoETS" if lv == 0 else f"AutoETS-{side}-{lv}"  # statsforecast: "99.0"
        cols[qcol(t)] = pl.col(name).clip(lower_bound=0)
    out = fc.select("unique_id", "ds", pl.col("AutoETS").clip(lower_bound=0).alias("mean"),
                    **cols)
    return monotone(out, [qcol(t) for t in QUANTILES])


def _with_cv(model: StatsForecaster, horizon: int) -> SimpleNamespace:
    """Forecasts plus the model's rolling-origin errors (for the aggregates' own quantiles)."""
    return SimpleNamespace(forecasts=model.predict(horizon), cv=model.cv_)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument("--horizon", type=int, default=28)
    ap.add_argument("--ets", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--covariates", action=argparse.BooleanOptionalAction, default=True,
                    help="M5 events, SNAP and price features for LightGBM (future-known)")
    ap.add_argument("--models", default=",".join(FAST), help="ours: the candidates")
    ap.add_argument("--choice", default="class", choices=("class", "series"),
                    help="ours: one model per demand class, or per series")
    args = ap.parse_args()
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    data = load(args.data / "m5")
    df, prices = data.df, data.prices
    end = df["ds"].max()
    results: dict[str, list[dict[str, float]]] = {}
    tests: dict[str, list[pl.DataFrame]] = {}
    timing: dict[str, float] = {}
    for w in range(args.windows, 0, -1):
        cutoff = end - timedelta(days=w * args.horizon)
        train = df.filter(pl.col("ds") <= cutoff)
        actual = df.filter((pl.col("ds") > cutoff) &
                           (pl.col("ds") <= cutoff + timedelta(days=args.horizon)))
        prep = prepare(train, cutoff)
        cov = (m5_covariates(data.calendar, data.prices, data.ids["unique_id"],
                             train["ds"].min(), cutoff + timedelta(days=args.horizon))
               if args.covariates else None)
        methods = {
            "sNaive": lambda p=prep: _with_cv(StatsForecaster("SeasonalNaive",
                                                              horizon=args.horizon).fit(p.df),
                                              args.horizon),
            "ours": lambda p=prep, c=cov: forecast_frame(p, models, args.horizon, 3, None, c,
                                                         choice=args.choice),
        }
        if args.ets:
            methods["ETS"] = lambda p=prep: ets_gaussian(p.df, args.horizon)
        for name, fn in methods.items():
            print(f"window ending {cutoff + timedelta(days=args.horizon)}: {name}",
                  file=sys.stderr)
            t0 = time.perf_counter()
            fc = fn()
            timing[name] = timing.get(name, 0.0) + time.perf_counter() - t0
            level_q = None
            if hasattr(fc, "cv"):  # also score the aggregates' own quantiles
                level_q = aggregate_quantiles(fc.forecasts, fc.cv)
                fc = fc.forecasts
            test = actual.join(fc.select("unique_id", "ds", "mean",
                                         *[qcol(t) for t in QUANTILES]),
                               on=["unique_id", "ds"], how="left").fill_null(0.0)
            results.setdefault(name, []).append(score(train, test, prices))
            tests.setdefault(name, []).append(test)
            if level_q is not None:
                results.setdefault(f"{name} (level quantiles)", []).append(
                    score(train, test, prices, level_q))
    print(f"# M5 daily, {df['unique_id'].n_unique()} series, {args.windows} × {args.horizon}-day "
          f"windows ending {end} — {machine()}")
    print("| method | WRMSSE | × sNaive | WSPL | × sNaive | fit+predict s (all windows) |")
    print("|---|---|---|---|---|---|")
    base = {k: np.mean([r[k] for r in results["sNaive"]]) for k in ("wrmsse", "wspl")}
    for name, rows in results.items():
        wr, ws = np.mean([r["wrmsse"] for r in rows]), np.mean([r["wspl"] for r in rows])
        print(f"| {name} | {wr:.3f} | {wr / base['wrmsse']:.2f} | {ws:.3f} | "
              f"{ws / base['wspl']:.2f} | {timing[name.split(' (')[0]]:.0f} |")
    print("\nper level, WRMSSE / WSPL (mean over windows):")
    print("| level | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for lv in ("total", "store_dept", "item_store"):
        cells = [f"{np.mean([r[f'wrmsse_{lv}'] for r in rows]):.3f} / "
                 f"{np.mean([r[f'wspl_{lv}'] for r in rows]):.3f}" for rows in results.values()]
        print(f"| {lv} | " + " | ".join(cells) + " |")
    print("\ncoverage P(y ≤ q) / P(y < q) per quantile level:")
    print("| level | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    covs = {n: coverage(pl.concat(t)) for n, t in tests.items()}
    covs.update({n: covs[n.split(" (")[0]] for n in results if n not in covs})
    for i, t in enumerate(QUANTILES):
        cells = [f"{covs[n]['p_le'][i]:.3f} / {covs[n]['p_lt'][i]:.3f}" for n in results]
        print(f"| {t} | " + " | ".join(cells) + " |")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"command: python benchmarks/forecast_m5.py --windows {args.windows} "
          f"--horizon {args.horizon}{'' if args.ets else ' --no-ets'}"
          f"{'' if args.covariates else ' --no-covariates'} --models {','.join(models)}"
          f" --choice {args.choice}")


if __name__ == "__main__":
    main()
