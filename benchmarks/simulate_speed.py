"""Simulator throughput, ours and the peer ``stockcast`` side by side on the same policy.

    python benchmarks/simulate_speed.py [--data ../shared/data] [--days 365] [--no-peer]

Policy (both simulators): order-up-to (R, S), lead time 7 days, weekly review, lost sales;
at each review S = trailing 28-day mean daily demand × (L + R) × 2, from the days before the
decision only, rounded up to whole units. Demand: the 972 real M5 daily series (TX_3/FOODS_3
and CA_3/HOBBIES_2), last ``--days`` days. The 30,490-SKU case (ours only) resamples them:
series drawn with replacement, each shifted by a random whole number of weeks within its own
history, so weekly patterns and intermittency stay real.

The two day orders differ: stockcast receives, decides, then meets demand; we receive, meet
demand, then decide (GLOSSARY). A stockcast decision before demand on day t with lead time L
is our decision after demand on day t − 1 with lead time L + 1 (the order arrives at the start
of day t + L in both). So ours replays one zero-demand day first and uses L + 1: the runs are
then the same policy on the same demand, and their KPIs must agree to the unit — printed.
Timing covers the simulation only (policies are built beforehand in both), best of 3 for ours,
one run for stockcast (seconds per run); the machine load is printed with the table.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.ingest import m5
from stockpilot.simulate import strategies as st
from stockpilot.simulate.engine import Policy, Setup, simulate
from stockpilot.simulate.kpis import kpis

ROOT = Path(__file__).resolve().parents[1]
L, R, K = 7, 7, 2.0
CPU: dict[int, float] = {}  # best CPU seconds of our runs per SKU count (the box is shared)


def real_matrix(data: Path) -> np.ndarray:
    """The 972 real daily M5 series, d_1 … d_1913, as an integer matrix."""
    wides = [m5.read_daily_wide(p) for p in m5.daily_files(data / "m5")]
    wide = pl.concat(wides, how="diagonal")
    days = [c for c in wide.columns if c.startswith("d_")]
    return wide.select(days).to_numpy().astype(np.int64)


def resample(hist: np.ndarray, n: int, width: int, seed: int = 11) -> np.ndarray:
    """``n`` series of ``width`` days: real series with replacement, random whole-week shifts."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, hist.shape[0], n)
    weeks = (hist.shape[1] - width) // 7
    starts = hist.shape[1] - width - 7 * rng.integers(0, weeks, n)
    idx = starts[:, None] + np.arange(width)[None, :]
    return hist[rows[:, None], idx]


def levels(hist: np.ndarray, days: int) -> np.ndarray:
    """S for a decision before demand on each simulated day (data before that day)."""
    start = hist.shape[1] - days
    # whole units, so that neither simulator's rounding of S − position matters
    return np.ceil(st.trailing_mean(hist, start, days) * (L + R) * K)


def ours(hist: np.ndarray, days: int) -> tuple[float, dict[str, float]]:
    """Our engine on the stockcast-equivalent timeline (zero-demand day 0, lead L + 1)."""
    start = hist.shape[1] - days
    s = levels(hist, days)
    demand = np.concatenate([np.zeros((hist.shape[0], 1), np.int64), hist[:, start:]], axis=1)
    policy = Policy(order_up_to=np.concatenate([s, s[:, -1:]], axis=1))
    on_hand0 = opening_stock(hist, days)
    t0, c0 = time.perf_counter(), time.process_time()
    trace = simulate(demand, policy, on_hand0, Setup(lead_time=L + 1, review=R))
    wall = time.perf_counter() - t0
    CPU[hist.shape[0]] = min(CPU.get(hist.shape[0], np.inf), time.process_time() - c0)
    k = kpis(trace)
    k["avg_on_hand_per_sku"] = float(np.clip(trace.on_hand_end[:, 1:], 0, None).mean())
    return wall, k


def opening_stock(hist: np.ndarray, days: int) -> np.ndarray:
    start = hist.shape[1] - days
    return np.rint(st.trailing_mean(hist, start, 1)[:, 0] * (L + R)).astype(np.int64)


def peer(hist: np.ndarray, days: int) -> tuple[float, float, dict[str, float]]:
    """stockcast 0.2: a rolling OrderUpToPolicy schedule; (build s, run s, KPIs)."""
    import pandas as pd
    from stockcast.core import InventoryStateDataFrame, SimulationEngine
    from stockcast.policies import OrderUpToPolicy
    from stockcast.policies.rolling import rolling_schedule

    n = hist.shape[0]
    start = hist.shape[1] - days
    ids = [f"s{i:05d}" for i in range(n)]
    opening = pd.Timestamp("2015-04-25")
    dates = pd.date_range(opening + pd.Timedelta(days=1), periods=days, freq="D")
    demand = pd.DataFrame({"unique_id": np.repeat(ids, days), "date": np.tile(dates, n),
                           "y": hist[:, start:].reshape(-1).astype(float)})
    s = levels(hist, days)
    reviews = np.arange(0, days, R)
    targets = pd.DataFrame({
        "unique_id": np.tile(ids, len(reviews)),
        "cutoff": np.repeat(opening + pd.to_timedelta(reviews, unit="D"), n),
        "S": s[:, reviews].T.reshape(-1)})
    shelf = InventoryStateDataFrame.from_observed(pd.DataFrame({
        "unique_id": ids, "date": [opening] * n,
        "on_hand": opening_stock(hist, days).astype(float)}))
    t0 = time.perf_counter()
    template = OrderUpToPolicy(lead_time=L, review_period=R, freq="D", service_level=None,
                               allow_backorders=False)
    schedule = rolling_schedule(template, targets, shelf, target_column="S")
    built = time.perf_counter() - t0
    first = min(schedule)
    t0, c0 = time.perf_counter(), time.process_time()
    result = SimulationEngine().run(policy=schedule[first], policy_schedule=schedule,
                                    demand_source=demand, inventory=shelf,
                                    allow_target_reuse=False)
    wall = time.perf_counter() - t0
    CPU[-n] = time.process_time() - c0
    ev: Any = result.to_event_frame()
    peer.events = ev  # type: ignore[attr-defined]  # kept for inspection by tests
    return built, wall, {
        "fill_rate": float(ev["fulfilled_units"].sum() / ev["demand"].sum()),
        "lost_units": float(ev["lost_sales_units"].sum()),
        "avg_on_hand_per_sku": float(ev["ending_on_hand"].clip(lower=0).mean()),
        "orders_placed": float((ev["order_quantity"] > 0).sum()),
        "units_ordered": float(ev["order_quantity"].sum()),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--no-peer", action="store_true", help="skip the stockcast run")
    args = ap.parse_args()
    hist = real_matrix(args.data)
    print(f"# simulator speed — {machine()}; load average at start "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| simulator | SKUs | days | wall s | SKU-days/s | fill rate | lost units | "
          "avg on hand/SKU | orders | units ordered |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    n0, rate = hist.shape[0], {}
    for n in (n0, 30_490):
        h = hist if n == n0 else resample(hist, n, args.days + 28)
        best, k = min((ours(h, args.days) for _ in range(3)), key=lambda r: r[0])
        rate[("ours", n)] = n * args.days / best
        print(row("ours (best of 3)", n, args.days, best, k))
        if n == n0 and not args.no_peer:
            built, wall, kp = peer(h, args.days)
            rate[("stockcast", n)] = n * args.days / wall
            print(row(f"stockcast {_version()} (1 run; schedule built in {built:.1f} s)", n,
                      args.days, wall, kp))
    if ("stockcast", n0) in rate:
        print(f"\nours / stockcast on {n0} × {args.days}: "
              f"{rate[('ours', n0)] / rate[('stockcast', n0)]:,.0f}×")
    print("CPU s (process time; wall exceeds it when the machine is shared): "
          + ", ".join(f"{'stockcast' if k < 0 else 'ours'} {abs(k):,} SKUs {v:.3f}"
                      for k, v in CPU.items()))
    print(f"load average at end {', '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"command: python benchmarks/simulate_speed.py --days {args.days}"
          + (" --no-peer" if args.no_peer else ""))


def row(name: str, n: int, days: int, wall: float, k: dict[str, float]) -> str:
    return (f"| {name} | {n:,} | {days} | {wall:.3f} | {n * days / wall:,.0f} | "
            f"{k['fill_rate']:.6f} | {k['lost_units']:,.0f} | {k['avg_on_hand_per_sku']:.4f} | "
            f"{k['orders_placed']:,.0f} | {k['units_ordered']:,.0f} |")


def _version() -> str:
    from importlib.metadata import version

    return version("stockcast")


if __name__ == "__main__":
    main()
