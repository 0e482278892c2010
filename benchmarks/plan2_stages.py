"""Cost of the sourcing and override stages of the planning pipeline at M5 scale.

    python benchmarks/plan2_stages.py [--skus 3049] [--stores 10] [--overrides 3000]

Times the pure stages issue 13 items 6 and 8 add to :func:`build_plan`, on synthetic plan
rows shaped as the pipeline has them at those stages: ``--skus`` SKUs at ``--stores`` stores
sourced from one DC (plus the DC's own line per SKU), i.e. skus × (stores + 1) SKU-locations
(the defaults give 33,539, just above M5's 30,490), and ``--overrides`` overrides of every
kind drawn at random. Stages timed: :func:`stockpilot.planning.sourcing.apply_sourcing`
(transfers from the DC, the DC's echelon), and from :mod:`stockpilot.planning.overrides`
``validate`` + ``active`` + ``apply_service`` + ``adjust_laws`` (both laws) + ``apply_levels``
+ ``min_trigger`` + ``notes``. Best of ``--repeat`` runs; peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.planning import overrides as ov
from stockpilot.planning.demand_laws import QCOLS
from stockpilot.planning.pipeline import OVERRIDES_SCHEMA
from stockpilot.planning.sourcing import apply_sourcing

AS_OF = date(2016, 5, 23)


def plan_rows(skus: int, stores: int, rng: np.random.Generator) -> pl.DataFrame:
    locs = ["DC"] + [f"S{i:03d}" for i in range(stores)]
    sku = np.repeat([f"K{i:05d}" for i in range(skus)], len(locs))
    loc = np.tile(locs, skus)
    n = len(sku)
    mean = rng.gamma(1.5, 20.0, n)
    s = np.ceil(mean * rng.uniform(1.0, 1.6, n)).astype(np.int64)
    ip = rng.integers(0, 60, n)
    df = pl.DataFrame({
        "unique_id": [f"{a}@{b}" for a, b in zip(sku, loc, strict=True)], "sku": sku,
        "location": loc, "supplier": "SUP", "lead_time_days": rng.choice([3, 7, 14], n),
        "protection_days": 14, "mean": mean, "order_up_to": s,
        "reorder_point": (s * 0.6).astype(np.int64), "sellable": ip, "reserved": 0,
        "inventory_position": ip, "need": np.maximum(s - ip, 0)})
    return df.with_columns([pl.Series(c, mean * (0.5 + k / len(QCOLS)))
                            for k, c in enumerate(QCOLS)])


def overrides(ids: list[str], k: int, rng: np.random.Generator) -> pl.DataFrame:
    kinds = rng.choice(["service_level", "order_up_to", "max", "forecast_factor",
                        "forecast_units"], k)
    pick = rng.choice(len(ids), k, replace=False)
    value = np.where(kinds == "service_level", 0.97, np.where(
        kinds == "forecast_factor", 1.3, rng.integers(20, 200, k).astype(float)))
    dated = np.isin(kinds, ["forecast_factor", "forecast_units"])
    return pl.DataFrame({
        "unique_id": [ids[i] for i in pick], "kind": kinds, "value": value,
        "start": [AS_OF + timedelta(days=3) if d else None for d in dated],
        "end": [AS_OF + timedelta(days=12) if d else None for d in dated], "author": "bench",
        "expires": AS_OF + timedelta(days=30), "note": None}, schema=dict(OVERRIDES_SCHEMA))


def run_overrides(plan: pl.DataFrame, o: pl.DataFrame) -> pl.DataFrame:
    ov.validate(o, plan["unique_id"])
    act = ov.active(o, AS_OF)
    service = plan.select("unique_id", pl.lit("AX").alias("klass"),
                          pl.lit(0.95).alias("service_level"))
    ov.apply_service(service, act)
    laws = plan.select("unique_id", "mean", *QCOLS)
    p = plan.select("unique_id", pl.col("protection_days").alias("window_days"))
    lt = plan.select("unique_id", pl.col("lead_time_days").alias("window_days"))
    ov.adjust_laws(laws, p, act, AS_OF, QCOLS)
    ov.adjust_laws(laws, lt, act, AS_OF, QCOLS)
    out = ov.min_trigger(ov.apply_levels(plan, act))
    return out.join(ov.notes(act), on="unique_id", how="left")


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=3049)
    ap.add_argument("--stores", type=int, default=10)
    ap.add_argument("--overrides", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(7)
    plan = plan_rows(a.skus, a.stores, rng)
    net = pl.DataFrame({"location": ["DC"] + [f"S{i:03d}" for i in range(a.stores)],
                        "source_kind": ["supplier"] + ["dc"] * a.stores,
                        "source": ["SUP"] + ["DC"] * a.stores})
    o = overrides(plan["unique_id"].to_list(), a.overrides, rng)
    t_src = best(lambda: apply_sourcing(plan, net), a.repeat)
    t_ov = best(lambda: run_overrides(plan, o), a.repeat)
    got = apply_sourcing(plan, net)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# {machine()}")
    print(f"# python benchmarks/plan2_stages.py --skus {a.skus} --stores {a.stores} "
          f"--overrides {a.overrides} --repeat {a.repeat}")
    print("| stage | rows | best of runs (s) |")
    print("|---|---|---|")
    print(f"| sourcing (transfers + echelon) | {plan.height:,} | {t_src:.3f} |")
    print(f"| overrides ({a.overrides:,} active) | {plan.height:,} | {t_ov:.3f} |")
    print(f"transfers: {int((got['transfer_qty'] > 0).sum()):,} lines; peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
