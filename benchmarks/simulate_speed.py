"""Simulator throughput: one order-up-to policy over 365 days, 972 real series and 30,490.

    python benchmarks/simulate_speed.py [--data ../shared/data]

The 972 real M5 daily series (last 365 days) are replayed as they are; the 30,490-SKU case
resamples them (series drawn with replacement, each shifted by a random whole number of
weeks within its own history, so weekly patterns and intermittency stay real). S is the
trailing 28-day mean × (L + R) × 2, lead time 7, weekly review, lost sales.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.ingest import m5
from stockpilot.simulate import strategies as st
from stockpilot.simulate.engine import Setup, simulate
from stockpilot.simulate.kpis import kpis

ROOT = Path(__file__).resolve().parents[1]


def real_matrix(data: Path) -> np.ndarray:
    wides = [m5.read_daily_wide(p) for p in m5.daily_files(data / "m5")]
    wide = pl.concat(wides, how="diagonal")
    days = [c for c in wide.columns if c.startswith("d_")]
    return wide.select(days).to_numpy().astype(np.int64)


def resample(hist: np.ndarray, n: int, width: int, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, hist.shape[0], n)
    weeks = (hist.shape[1] - width) // 7
    starts = hist.shape[1] - width - 7 * rng.integers(0, weeks, n)
    idx = starts[:, None] + np.arange(width)[None, :]
    return hist[rows[:, None], idx]


def run(hist: np.ndarray, days: int) -> tuple[float, dict[str, float]]:
    setup = Setup(7, 7)
    start = hist.shape[1] - days
    policy = st.erp_min_max(hist, start, days, setup, 2.0)
    policy = type(policy)(order_up_to=policy.order_up_to)  # plain (R, S)
    on_hand0 = np.rint(st.trailing_mean(hist, start, 1)[:, 0] * 14).astype(np.int64)
    t0 = time.perf_counter()
    trace = simulate(hist[:, start:], policy, on_hand0, setup)
    return time.perf_counter() - t0, kpis(trace)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--days", type=int, default=365)
    args = ap.parse_args()
    hist = real_matrix(args.data)
    print(f"# simulator speed — {machine()}")
    print("| SKUs | days | wall s (best of 3) | SKU-days/s | fill rate |")
    print("|---|---|---|---|---|")
    for n in (hist.shape[0], 30_490):
        h = hist if n == hist.shape[0] else resample(hist, n, args.days + 28)
        best, k = min((run(h, args.days) for _ in range(3)), key=lambda r: r[0])
        print(f"| {n:,} | {args.days} | {best:.3f} | {n * args.days / best:,.0f} | "
              f"{k['fill_rate']:.3f} |")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"command: python benchmarks/simulate_speed.py --days {args.days}")


if __name__ == "__main__":
    main()
