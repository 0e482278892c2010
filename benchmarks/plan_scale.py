"""Planning run at full M5 scale: 30,490 SKU-locations from forecasts to orders with reasons.

    python benchmarks/plan_scale.py [--data ../shared/data] [--skus 30490] [--history-days 365]

What is timed is what ``stockpilot.jobs.plan.run_plan`` does after its database reads: ABC–XYZ
classes on the last 91 days (:func:`stockpilot.planning.classes.abc_xyz`) and the one planning
pipeline, :func:`stockpilot.planning.pipeline.build_plan` (demand classes, the protection-
interval and lead-time laws by the method of each class, levels, positions, rounding, the
guard, reasons and invariants). The reads (positions, supplier terms, prices, the stored
forecast) are not timed; nor is the forecast, a separate step.

Data: the 972 real M5 daily series (TX_3/FOODS_3, CA_3/HOBBIES_2) are forecast once as the
forecast step would (SeasonalNaive, CrostonOptimized, TSB, 28-day window average chosen per
series on 2 rolling windows × 28 days, on all of d_1 … d_1913). The 30,490 SKU-locations are
drawn from them with replacement: each is a copy of one real series — its history (last
``--history-days`` days), forecast, rolling-origin errors and real last M5 price — under its
own id. Supplier terms are drawn: lead time 3, 7 or 14 days, pack 1, 6 or 12, MOQ 0 or one
pack, unit cost 60% of the price; on hand and on order are drawn around two weeks of demand.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.forecast.data import prepare, to_long
from stockpilot.forecast.selection import forecast_frame
from stockpilot.ingest import m5
from stockpilot.planning.classes import abc_xyz
from stockpilot.planning.pipeline import PlanInputs, PlanOptions, build_plan
from stockpilot.simulate.rolling import FAST_MODELS

ROOT = Path(__file__).resolve().parents[1]
REVIEW = 7


def real_series(data: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Long history of the 972 real series and each one's last M5 price."""
    cal = m5.read_calendar(data / "m5" / "calendar.csv.gz")
    daily = pl.concat([m5.wide_to_long(m5.read_daily_wide(p), cal)
                       for p in m5.daily_files(data / "m5")])
    hist = to_long(daily)
    pairs = daily.select("sku", "location").unique()
    prices = m5.read_prices(data / "m5" / "sell_prices.csv.gz").join(
        pairs, on=["sku", "location"], how="semi").sort("wm_yr_wk").group_by(
        "sku", "location").agg(pl.col("sell_price").last().alias("price"))
    price = prices.select((pl.col("sku") + "@" + pl.col("location")).alias("unique_id"), "price")
    return hist, price


def replicate(frame: pl.DataFrame, copies: pl.DataFrame) -> pl.DataFrame:
    """Rows of each original series once per copy, under the copy's id."""
    return frame.rename({"unique_id": "orig"}).join(copies, on="orig", how="inner").drop("orig")


def inputs(data: Path, n: int, history_days: int, seed: int = 7) -> dict[str, pl.DataFrame]:
    hist, price = real_series(data)
    prep = prepare(hist.with_columns(pl.col("y").clip(lower_bound=0)))
    fc = forecast_frame(prep, FAST_MODELS, 28, 2)
    ids = sorted(prep.df["unique_id"].unique().to_list())
    rng = np.random.default_rng(seed)
    orig = [ids[i] for i in rng.integers(0, len(ids), n)]
    copies = pl.DataFrame({"orig": orig,
                           "unique_id": [f"P{j:05d}@{o.split('@')[1]}" for j, o in
                                         enumerate(orig)]})
    end = prep.df["ds"].max()
    recent = prep.df.filter(pl.col("ds") > end - pl.duration(days=history_days))
    h = replicate(recent, copies)
    mean = h.group_by("unique_id").agg(pl.col("y").mean().alias("m")).sort("unique_id")
    pack = rng.choice([1, 6, 12], n)
    terms = copies.select("unique_id").with_columns(
        pl.col("unique_id").str.split("@").list.first().alias("sku"),
        pl.lit("SUP").alias("supplier"),
        pl.Series("lead_time_days", rng.choice([3, 7, 14], n)),
        pl.Series("pack_size", pack), pl.Series("moq", pack * rng.integers(0, 2, n)),
    ).join(replicate(price, copies), on="unique_id", how="left").with_columns(
        (pl.col("price").fill_null(1.0) * 0.6).alias("unit_cost"),
        pl.lit(0.0).alias("order_cost"))
    m = mean.join(copies.select("unique_id"), on="unique_id", how="right")["m"].fill_null(0)
    positions = copies.select("unique_id").with_columns(
        pl.Series("on_hand", np.rint(m.to_numpy() * 14 * rng.uniform(0, 2, n)).astype(np.int64)),
        pl.Series("on_order", np.rint(m.to_numpy() * 7 * rng.integers(0, 2, n)).astype(np.int64)),
        pl.lit(0, pl.Int64).alias("reserved"))
    return {"forecast": replicate(fc.forecasts, copies), "cv": replicate(fc.cv, copies),
            "hist": h, "terms": terms, "positions": positions,
            "price": replicate(price, copies)}


def plan(inp: dict[str, pl.DataFrame]) -> tuple[pl.DataFrame, dict[str, float]]:
    """run_plan's pure part, step by step; returns the plan and seconds per step."""
    steps: dict[str, float] = {}
    hist = inp["hist"]
    t0 = time.perf_counter()
    end = hist["ds"].max()
    recent = hist.filter(pl.col("ds") > end - pl.duration(days=91))  # type: ignore[operator]
    classes = abc_xyz(recent, inp["price"])
    steps["ABC–XYZ classes"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    inputs = PlanInputs(history=hist, forecast=inp["forecast"], cv=inp["cv"],
                        positions=inp["positions"], terms=inp["terms"].drop("sku"),
                        service=classes)
    out = build_plan(inputs, PlanOptions(review_days=REVIEW))
    steps["pipeline (laws, levels, orders, guard, reasons, invariants)"] = \
        time.perf_counter() - t0
    return out, steps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--skus", type=int, default=30_490)
    ap.add_argument("--history-days", type=int, default=365)
    args = ap.parse_args()
    t0 = time.perf_counter()
    inp = inputs(args.data, args.skus, args.history_days)
    prep_s = time.perf_counter() - t0
    load = os.getloadavg()
    t0, c0 = time.perf_counter(), time.process_time()
    out, steps = plan(inp)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"# planning run, {args.skus:,} SKU-locations — {machine()}; load average "
          f"{load[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end")
    print(f"inputs (not timed, {prep_s:.0f} s): forecast {inp['forecast'].height:,} rows, "
          f"cv {inp['cv'].height:,}, history {inp['hist'].height:,}")
    print("| step | s |\n|---|---|")
    for name, s in steps.items():
        print(f"| {name} | {s:.2f} |")
    print(f"| **total** | **{wall:.2f}** (CPU {cpu:.2f} s over all threads) |")
    due = out.filter(pl.col("order_qty") > 0)
    print(f"\n{out.height:,} SKU-locations planned, {due.height:,} orders due, every one with "
          f"a reason; {out.filter(pl.col('flags').list.len() > 0).height:,} flagged; methods "
          f"{dict(out.group_by('method').len().iter_rows())}; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"command: python benchmarks/plan_scale.py --skus {args.skus} "
          f"--history-days {args.history_days}")


if __name__ == "__main__":
    main()
