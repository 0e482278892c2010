"""Forecasting at the full M5 shape: 30,490 daily series × 1,941 days, fit + 28-day quantiles.

    python benchmarks/forecast_scale.py [--data ../shared/data] [--series 30490] [--days 1941]
        [--horizon 28] [--windows 1] [--models SeasonalNaive,...,LightGBM] [--seed 0]
        [--lgbm default|recent] [--train-days 365] [--lgbm-threads 1] [--max-rss-gib 14]

What runs: our default pipeline path without the history store's I/O —
:func:`stockpilot.forecast.data.prepare` (gap filling, cleaning) and
:func:`stockpilot.forecast.selection.forecast_frame` (demand classes, rolling-origin
cross-validation of every candidate, per-series choice, conformal quantiles, 28-day
forecast) over the fast candidates of ``benchmarks/forecast_m5.py``: SeasonalNaive,
CrostonOptimized, TSB, a 28-day window average (statsforecast, per series) and a global
LightGBM (mlforecast, recursive) — as configured for the pipeline (``--lgbm default``: all
days, 300 trees, 2 threads) or as :class:`stockpilot.forecast.scale.RecentLGBM`
(``--lgbm recent``: the last ``--train-days`` days, bagging 0.5, 150 trees at rate 0.1,
``--lgbm-threads``). One rolling-origin window by default (the pipeline's default is 3):
each window is one more fit of every candidate. Reported: wall time of each stage, peak RSS
(the larger of ``getrusage`` self and a psutil sampler summing the process tree every
0.25 s), and seconds per 1,000 series.

How the data are made (the real daily matrix has only 972 of the 30,490 series; see
``shared/data/README.md``):
  1. Sources: the 972 real daily series of ``data/m5/daily/`` (TX_3/FOODS_3 and
     CA_3/HOBBIES_2), d_1..d_1913, integer units.
  2. Targets: the 30,490 real item-store ids of ``data/m5/monthly_sales_item_store.csv.gz``,
     each with its real mean daily sales over d_1..d_1913 (sum of its monthly totals ÷ 1,913).
  3. Series ``i`` (named by real id ``i``, ``ITEM@STORE``) takes a source drawn uniformly
     with replacement (``numpy.random.default_rng(seed)``), rotated circularly by a random
     whole number of weeks (``7·k``, k uniform in 0..272, so weekdays stay aligned with the
     calendar), extended from 1,913 to ``--days`` days by continuing the rotation
     (day t takes source day ``(t + 7·k) mod 1913``), then multiplied by
     ``target mean ÷ source mean`` and stochastically rounded to integers
     (``floor(x) + Bernoulli(x − floor(x))``, unbiased, zero days stay zero).
     A source without sales is redrawn. Dates run from 2011-01-29 (d_1) for ``--days`` days.
So every series has a real daily shape (seasonality, intermittency, listing gaps), and the
panel has the real distribution of M5 series levels, with the real share of slow movers.
The rotation puts a source's pre-listing zeros somewhere inside the series; the pipeline
treats them like any zero days.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import resource
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.forecast import selection
from stockpilot.forecast.data import prepare
from stockpilot.forecast.scale import large_panel_factory

ROOT = Path(__file__).resolve().parents[1]
FAST = ("SeasonalNaive", "CrostonOptimized", "TSB", "WindowAverage28", "LightGBM")
D1 = date(2011, 1, 29)
REAL_DAYS = 1913


def real_sources(m5: Path) -> np.ndarray:
    """The 972 real daily series as a (series, 1913) integer matrix."""
    mats = []
    for path in sorted((m5 / "daily").glob("*.csv*")):
        wide = pl.read_csv(path)
        cols = [f"d_{i}" for i in range(1, REAL_DAYS + 1)]
        mats.append(wide.select(cols).to_numpy().astype(np.float32))
    return np.vstack(mats)


def real_targets(m5: Path) -> pl.DataFrame:
    """``unique_id`` (ITEM@STORE) and mean daily sales over d_1..d_1913 of all 30,490 series."""
    monthly = pl.read_csv(m5 / "monthly_sales_item_store.csv.gz",
                          columns=["item_id", "store_id", "sales"])
    return monthly.group_by("item_id", "store_id").agg(
        (pl.col("sales").sum() / REAL_DAYS).alias("mean")).select(
        (pl.col("item_id") + "@" + pl.col("store_id")).alias("unique_id"), "mean"
    ).sort("unique_id")


def synthesize(m5: Path, n_series: int, n_days: int, seed: int) -> pl.DataFrame:
    """Long ``unique_id, ds, y`` made from the real series as the module docstring says."""
    rng = np.random.default_rng(seed)
    src = real_sources(m5)
    src = src[src.sum(axis=1) > 0]  # "a source without sales is redrawn"
    targets = real_targets(m5)
    if n_series > targets.height:
        raise SystemExit(f"--series {n_series}: at most {targets.height} real ids")
    targets = targets.head(n_series) if n_series == targets.height else targets.sample(
        n_series, seed=seed).sort("unique_id")
    pick = rng.integers(0, src.shape[0], n_series)
    weeks = rng.integers(0, REAL_DAYS // 7, n_series)
    t = np.arange(n_days)
    scale = targets["mean"].to_numpy() / src.mean(axis=1)[pick]
    y = np.empty((n_series, n_days), dtype=np.float32)
    for lo in range(0, n_series, 2048):  # in blocks: the index matrix alone would be 470 MB
        hi = min(lo + 2048, n_series)
        idx = (t[None, :] + 7 * weeks[lo:hi, None]) % REAL_DAYS
        x = src[pick[lo:hi, None], idx] * scale[lo:hi, None].astype(np.float32)
        base = np.floor(x)
        y[lo:hi] = base + (rng.random(x.shape, dtype=np.float32) < (x - base))
    ds = pl.date_range(D1, D1 + timedelta(days=n_days - 1), "1d", eager=True)
    ids = targets["unique_id"]
    return pl.DataFrame({
        "unique_id": ids.gather(np.repeat(np.arange(n_series), n_days)),
        "ds": ds.gather(np.tile(np.arange(n_days), n_series)),
        "y": y.ravel().astype(np.float64),
    })


class PeakRss:
    """Sample the RSS of this process and its children (statsforecast/LightGBM workers)."""

    def __init__(self, every_s: float = 0.25, limit_gib: float = 14.0) -> None:
        self.every_s = every_s
        self.limit_gib = limit_gib
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        me = psutil.Process(os.getpid())
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            self.peak_bytes = max(self.peak_bytes, total)
            if total > self.limit_gib * 2**30:  # the machine is shared: stop before it swaps
                print(f"RSS {total / 2**30:.1f} GiB > --max-rss-gib {self.limit_gib}: stopped",
                      file=sys.stderr, flush=True)
                os._exit(3)
            self._stop.wait(self.every_s)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak_mib(self) -> float:
        """Largest of the sampled tree RSS and ``getrusage`` self maximum, MiB.

        ``RUSAGE_CHILDREN`` is not added: a forked child (``platform.processor()`` runs
        ``uname``) reports the parent's resident pages as its own, which doubled the figure.
        """
        ru_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return max(self.peak_bytes / 2**20, ru_self)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--series", type=int, default=30490)
    ap.add_argument("--days", type=int, default=1941)
    ap.add_argument("--horizon", type=int, default=28)
    ap.add_argument("--windows", type=int, default=1)
    ap.add_argument("--models", default=",".join(FAST))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lgbm", choices=("default", "recent"), default="default",
                    help="default: the pipeline's LightGBM as is; recent: "
                    "stockpilot.forecast.scale.RecentLGBM (last --train-days days, bagging)")
    ap.add_argument("--train-days", type=int, default=365)
    ap.add_argument("--lgbm-threads", type=int, default=1)
    ap.add_argument("--max-rss-gib", type=float, default=14.0,
                    help="abort when the process tree's RSS exceeds this (the target is 12)")
    args = ap.parse_args()
    factory = (large_panel_factory(args.train_days, num_threads=args.lgbm_threads)
               if args.lgbm == "recent" else selection.make_forecaster)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    stages: dict[str, float] = {}
    with PeakRss(limit_gib=args.max_rss_gib) as rss:
        t0 = time.perf_counter()
        df = synthesize(args.data / "m5", args.series, args.days, args.seed)
        stages["synthesize (not counted)"] = time.perf_counter() - t0
        print(f"synthesized {df.height:,} rows, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
        start = time.perf_counter()
        prep = prepare(df)
        del df
        stages["prepare"] = time.perf_counter() - start
        marks: list[tuple[str, float]] = [("classes", time.perf_counter())]

        def say(msg: str) -> None:
            marks.append((msg.removeprefix("cross-validating and fitting "),
                          time.perf_counter()))
            print(f"{time.perf_counter() - start:7.1f} s  {msg}  (load "
                  f"{os.getloadavg()[0]:.2f}, rss {rss.peak_bytes / 2**30:.1f} GiB)",
                  file=sys.stderr)

        fc = selection.forecast_frame(prep, models, args.horizon, args.windows, say,
                                      factory=factory).forecasts
        wall = time.perf_counter() - start
        marks.append(("forecast + quantiles", time.perf_counter()))
        for (name, t), (_, t_next) in itertools.pairwise(marks):
            stages[name if name != "choosing a model per series" else "choose"] = t_next - t
    n = prep.df["unique_id"].n_unique() + len(prep.all_zero)
    assert fc["unique_id"].n_unique() == n and fc.height == n * args.horizon
    print(f"# forecast scale: {n:,} series × {args.days} days, {args.horizon}-day quantile "
          f"forecast, {args.windows} rolling-origin window(s) — {machine()}")
    print(f"models: {', '.join(models)} (LightGBM: {args.lgbm}); load average at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| stage | wall s |\n|---|---|")
    for name, secs in stages.items():
        print(f"| {name} | {secs:.1f} |")
    print(f"\nwall (prepare → forecasts) {wall:.0f} s = {wall / 60:.1f} min; "
          f"{wall / n * 1000:.1f} s per 1,000 series; peak RSS {rss.peak_mib():,.0f} MiB "
          f"(sampled tree {rss.peak_bytes / 2**20:,.0f}, getrusage self "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f})")
    print(f"chosen: {dict(fc.group_by('model').agg(pl.col('unique_id').n_unique()).iter_rows())}")
    print(f"command: python benchmarks/forecast_scale.py --series {args.series} --days "
          f"{args.days} --horizon {args.horizon} --windows {args.windows} --models "
          f"{','.join(models)} --seed {args.seed} --lgbm {args.lgbm}"
          + (f" --train-days {args.train_days} --lgbm-threads {args.lgbm_threads}"
             if args.lgbm == "recent" else ""))


if __name__ == "__main__":
    main()
