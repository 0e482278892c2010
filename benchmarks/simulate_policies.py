"""Policies side by side on real history: ERP min/max vs normal theory vs ours vs oracle.

    python benchmarks/simulate_policies.py --dataset m5 [--data ../shared/data] [--days 365]
    python benchmarks/simulate_policies.py --dataset online_retail --days 182
    python benchmarks/simulate_policies.py --dataset m5 --calibration-weeks 26 [--groups class]

Lead time 7 days, weekly review, lost sales. Forecasts for "ours" and "normal" are refitted at
every weekly review on data before it (statsforecast SeasonalNaive, CrostonOptimized, TSB and a
28-day window average, chosen per series by rolling-origin error; quantiles of the 14-day
demand sum calibrated on their own errors). Prints the KPI table, inventory at equal fill
(95%, 98%, interpolated on each curve), the share of the min/max→oracle gap closed, and the
achieved CSL against the target. With ``--calibration-weeks N`` the N weekly reviews before
the simulated year learn a target → quantile-level map from the CSL achieved there
(:mod:`stockpilot.simulate.calibrate`; per Syntetos–Boylan demand class of the history before
the calibration period with ``--groups class``); "ours (calibrated)" and "normal (calibrated)"
then order at the mapped levels. ``--class-targets`` adds the ABC–XYZ class service levels
(classes from the 91 days before the simulated period; revenue = units × price where a price
is known, else units).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from policy_research import compare_research  # benchmarks/ is not a package
from stockpilot.forecast.classify import demand_classes
from stockpilot.forecast.data import prepare, to_long
from stockpilot.ingest import m5
from stockpilot.ingest.online_retail import daily_demand, read_invoices
from stockpilot.ingest.online_retail_import import split_lines
from stockpilot.planning.classes import abc_xyz
from stockpilot.simulate.engine import Setup
from stockpilot.simulate.run import inventory_at_fill

ROOT = Path(__file__).resolve().parents[1]


def load(dataset: str, data: Path) -> pl.DataFrame:
    if dataset == "m5":
        cal = m5.read_calendar(data / "m5" / "calendar.csv.gz")
        longs = [m5.wide_to_long(m5.read_daily_wide(p), cal)
                 for p in m5.daily_files(data / "m5")]
        daily = pl.concat(longs)
    else:
        kept, _, _ = split_lines(read_invoices(data / "online_retail" / "online_retail.csv.gz"))
        daily = daily_demand(kept)
    return to_long(daily).with_columns(pl.col("y").clip(lower_bound=0))


def print_equal_fill(rows: list[dict[str, object]], oracle: dict[str, object]) -> None:
    """Average on hand per SKU at equal achieved fill, each policy against ERP min/max."""
    policies = [p for p in dict.fromkeys(str(r["policy"]) for r in rows)
                if p not in ("erp_min_max", "oracle")]
    print("\n| fill | ERP min/max | " + " | ".join(f"{p} (vs min/max, gap closed)"
                                                  for p in policies) + " |")
    print("|---|---|" + "---|" * len(policies))
    o_inv = float(oracle["avg_on_hand_per_sku"])  # type: ignore[arg-type]
    for fill in (0.90, 0.95, 0.98):
        e = inventory_at_fill(rows, "erp_min_max", fill)
        cells = []
        for p in policies:
            v = inventory_at_fill(rows, p, fill)
            cells.append("n/a" if v is None or e is None else
                         f"{v:.2f} ({(v / e - 1) * 100:+.1f}%, {(e - v) / (e - o_inv):.0%})")
        print(f"| {fill:.0%} | {e if e is None else round(e, 2)} | " + " | ".join(cells) + " |")


def print_csl(rows: list[dict[str, object]]) -> None:
    """Achieved cycle service level at each target, before and after calibration."""
    policies = [p for p in ("ours", "ours (calibrated)", "normal", "normal (calibrated)")
                if any(r["policy"] == p for r in rows)]
    print("\n| target | " + " | ".join(f"{p} CSL / fill" for p in policies) + " |")
    print("|---|" + "---|" * len(policies))
    for tau in sorted({float(r["knob"]) for r in rows if r["policy"] == "ours"}):  # type: ignore[arg-type]
        cells = [next((f"{r['cycle_service_level']:.4f} / {r['fill_rate']:.4f}" for r in rows
                       if r["policy"] == p and r["knob"] == tau), "n/a") for p in policies]
        print(f"| {tau:.2f} | " + " | ".join(cells) + " |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", choices=["m5", "online_retail"], default="m5")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--out", type=Path, default=None, help="write KPI rows as JSON")
    ap.add_argument("--windows", type=int, default=2, help="calibration windows per origin")
    ap.add_argument("--horizon", type=int, default=14, help="calibration horizon (days)")
    ap.add_argument("--max-start", type=int, default=None,
                    help="calibrate on P-day runs starting within this many days")
    ap.add_argument("--integer", choices=["ceil", "round"], default="ceil",
                    help="how order-up-to levels become whole units")
    ap.add_argument("--calibration-weeks", type=int, default=0,
                    help="weekly reviews before the simulated period that learn target → level")
    ap.add_argument("--groups", choices=["none", "class"], default="none",
                    help="calibrate per demand class (ADI/CV²) instead of all SKUs together")
    ap.add_argument("--class-targets", action="store_true",
                    help="also run ABC–XYZ class service levels")
    ap.add_argument("--empirical-window", type=int, default=0,
                    help="days of past P-day sums for the empirical (intermittent) policies")
    ap.add_argument("--sweep", type=str, default=None,
                    help="comma-separated service targets (default 0.5 … 0.99)")
    args = ap.parse_args()
    df = load(args.dataset, args.data)
    end = df["ds"].max()
    start = end - timedelta(days=args.days - 1)
    cal_start = start - timedelta(days=7 * args.calibration_weeks)
    groups = None
    if args.groups == "class":
        # on the gap-filled frame: Online Retail lists only days with sales
        cls = demand_classes(prepare(df.filter(pl.col("ds") < cal_start)).df)
        groups = dict(zip(cls["unique_id"], cls["demand_class"], strict=True))
    class_levels = None
    if args.class_targets:
        recent = df.filter(pl.col("ds").is_between(start - timedelta(days=91), start,
                                                   closed="left"))
        klass = abc_xyz(recent, pl.DataFrame(schema={"unique_id": pl.Utf8, "price": pl.Float64}))
        class_levels = dict(zip(klass["unique_id"], klass["service_level"], strict=True))
    sweep = {}
    if args.sweep:
        sweep = {"service_levels": tuple(float(x) for x in args.sweep.split(","))}
    t0 = time.perf_counter()
    cmp = compare_research(df, start, end, Setup(7, 7), n_windows=args.windows,
                           horizon=args.horizon, integer=args.integer,
                           max_start=args.max_start, calibration_weeks=args.calibration_weeks,
                           groups=groups, class_levels=class_levels,
                           empirical_window=args.empirical_window,
                           progress=lambda m: print(m, file=sys.stderr), **sweep)
    wall = time.perf_counter() - t0
    print(f"# policies on {args.dataset}: {df['unique_id'].n_unique()} series, {start} … {end}"
          f" — {machine()}")
    print("| policy | knob | fill rate | CSL | avg on hand / SKU | lost units | orders |")
    print("|---|---|---|---|---|---|---|")
    for r in cmp.rows:
        print(f"| {r['policy']} | {r['knob']:.2f} | {r['fill_rate']:.4f} | "
              f"{r['cycle_service_level']:.4f} | {r['avg_on_hand_per_sku']:.2f} | "
              f"{r['lost_units']:,.0f} | {r['orders_placed']:,.0f} |")
    oracle = next(r for r in cmp.rows if r["policy"] == "oracle")
    print_equal_fill(cmp.rows, oracle)
    print_csl(cmp.rows)
    print(f"\noracle: fill {oracle['fill_rate']:.4f} at {oracle['avg_on_hand_per_sku']:.2f} "
          f"units/SKU; wall {wall:.0f} s; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"command: python benchmarks/simulate_policies.py --dataset {args.dataset} "
          f"--days {args.days} --windows {args.windows} --horizon {args.horizon} "
          f"--integer {args.integer}"
          + (f" --max-start {args.max_start}" if args.max_start else "")
          + (f" --calibration-weeks {args.calibration_weeks}" if args.calibration_weeks else "")
          + (f" --groups {args.groups}" if args.groups != "none" else "")
          + (" --class-targets" if args.class_targets else "")
          + (f" --empirical-window {args.empirical_window}" if args.empirical_window else "")
          + (f" --sweep {args.sweep}" if args.sweep else ""))
    if args.out:
        args.out.write_text(json.dumps(cmp.rows, indent=2))


if __name__ == "__main__":
    main()
