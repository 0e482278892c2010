"""LightGBM on Dask (``forecast --engine dask``) vs the local LightGBM, side by side.

    python benchmarks/forecast_dask.py [--data ../shared/data] [--days 730]

The 972 shared M5 daily series (last ``--days`` days before the final 28), the same
LightGBM settings (300 trees, 2 rolling windows of 28 days for the conformal quantiles):
local (mlforecast, 2 threads) and Dask (a LocalCluster of 2 single-threaded worker
processes, LightGBM's distributed learner). Reported: wall time, peak RSS of this process
(the workers' memory is their own), and each one's MSE on the held-out last 28 days.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.forecast.dask_lgbm import DaskLGBMForecaster, dask_client
from stockpilot.forecast.data import to_long
from stockpilot.forecast.lgbm import LGBMForecaster
from stockpilot.ingest import m5

ROOT = Path(__file__).resolve().parents[1]
H = 28


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--days", type=int, default=730)
    args = ap.parse_args()
    cal = m5.read_calendar(args.data / "m5" / "calendar.csv.gz")
    daily = pl.concat([m5.wide_to_long(m5.read_daily_wide(p), cal)
                       for p in m5.daily_files(args.data / "m5")])
    hist = to_long(daily).with_columns(pl.col("y").cast(pl.Float64))
    end = hist["ds"].max()
    test = hist.filter(pl.col("ds") > end - pl.duration(days=H))
    train = hist.filter((pl.col("ds") <= end - pl.duration(days=H))
                        & (pl.col("ds") > end - pl.duration(days=H + args.days)))
    print(f"# LightGBM local vs Dask — {machine()}; {train['unique_id'].n_unique()} series × "
          f"{args.days} days")
    dask_client()  # the cluster's start-up is not timed
    print("| engine | wall s | MSE last 28 days | peak RSS MiB (this process) |\n|---|---|---|---|")
    for name, est in (("local (2 threads)", LGBMForecaster(horizon=H, n_windows=2)),
                      ("dask (2 workers × 1 thread)", DaskLGBMForecaster(horizon=H,
                                                                          n_windows=2))):
        t0 = time.perf_counter()
        fc = est.fit(train).predict(H)
        wall = time.perf_counter() - t0
        j = fc.join(test, on=["unique_id", "ds"])
        mse = float(j.select(((pl.col("y") - pl.col("mean")) ** 2).mean()).item())
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"| {name} | {wall:.1f} | {mse:.3f} | {rss:.0f} |", flush=True)
    print(f"command: python benchmarks/forecast_dask.py --days {args.days}")


if __name__ == "__main__":
    main()
