"""Tune the global LightGBM with optuna on data older than every scored window (issue 16).

    python benchmarks/forecast_m5_tune.py [--data ../shared/data] [--trials 20]
        [--seconds 0] [--out /tmp/stockpilot-rolling/tuned.json] [--windows 8] [--spacing 48]

The search (:func:`stockpilot.forecast.tuning.tune_lgbm`: trees, learning rate, leaves, row
and feature bagging, least leaf size; TPE, seeded) sees only the ``--train-days`` (730) days
before the first cut-off of ``benchmarks/forecast_m5_rolling.py`` (same ``--windows`` and
``--spacing``), with the M5 covariates, and scores each trial on its own two inner 28-day
windows ending at that cut-off. So every window the rolling script scores — early and late —
lies after all the data the search saw. The rolling script's ``LightGBM-tuned`` candidate reads
the JSON written here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.forecast.data import prepare
from stockpilot.forecast.features import m5_covariates
from stockpilot.forecast.m5_benchmark import load
from stockpilot.forecast.tuning import tune_lgbm

ROOT = Path(__file__).resolve().parents[1]
H = 28


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=0, help="time budget (0: trials only)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/stockpilot-rolling/tuned.json"))
    ap.add_argument("--windows", type=int, default=8)
    ap.add_argument("--spacing", type=int, default=48)
    ap.add_argument("--train-days", type=int, default=730)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    data = load(args.data / "m5")
    end = data.df["ds"].max()
    first_cutoff = end - timedelta(days=H + args.spacing * (args.windows - 1))
    fit_on = data.df.filter((pl.col("ds") <= first_cutoff)
                            & (pl.col("ds") > first_cutoff - timedelta(days=args.train_days)))
    prep = prepare(fit_on, first_cutoff)
    cov = m5_covariates(data.calendar, data.prices, data.ids["unique_id"],
                        fit_on["ds"].min(), first_cutoff + timedelta(days=H))
    t0 = time.perf_counter()
    got = tune_lgbm(prep.df, cov, horizon=H, n_windows=2, n_trials=args.trials,
                    timeout_s=args.seconds or None, num_threads=args.threads)
    secs = time.perf_counter() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {"params": got.params, "score": got.score, "trials": got.trials,
              "seconds": round(secs, 1), "data_until": str(first_cutoff),
              "series": data.ids.height, "machine": machine(),
              "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    args.out.write_text(json.dumps(record, indent=1))
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
