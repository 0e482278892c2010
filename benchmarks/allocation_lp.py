"""Allocation LP at scale: 10,000 SKUs × 100 stores (≈1 M variables), build vs HiGHS time.

    python benchmarks/allocation_lp.py [--skus 10000] [--stores 100] [--seed 7]

Synthetic but real-like, seeded: SKU velocity lognormal (median ~0.4 units/day, a long tail
of fast movers as in M5), store size lognormal, target = P90 of Poisson demand over a 7-day
cover; DC stock 60–110 % of the summed targets (some SKUs short); transfer cost = SKU unit
weight × store distance; shortfall cost = margin 20–50 % of a lognormal price; store
receiving capacity 90 % of its summed targets (binding). Each case runs in a fresh process
(``_harness.measure``) so its peak RSS is its own:

* end-to-end — ``allocate()``: build the CSC model from the arrays, pass it to HiGHS, solve,
  scatter the solution back to a (SKU × store) matrix;
* HiGHS alone — the same prebuilt arrays passed to ``highspy`` and solved (passModel + run),
  and ``run()`` by itself. Both use the same solver options (``HIGHS_OPTIONS``: interior
  point + crossover, presolve off — see ``stockpilot.planning.allocation``).

Target: end-to-end ≤ 1.5 × HiGHS alone. Times are wall seconds, with the process CPU seconds
beside them (the machine may be shared).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import poisson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine, measure
from stockpilot.planning.allocation import HIGHS_OPTIONS, allocate, build_model


def instance(n_sku: int, n_store: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    velocity = rng.lognormal(-1.0, 1.2, n_sku)
    size = rng.lognormal(0.0, 0.5, n_store)
    target = poisson.ppf(0.9, velocity[:, None] * size[None, :] * 7)
    stock = np.floor(target.sum(axis=1) * rng.uniform(0.6, 1.1, n_sku))
    transfer = rng.lognormal(0.0, 0.5, n_sku)[:, None] * rng.uniform(0.05, 0.6, n_store)[None, :]
    margin = (rng.lognormal(2.5, 0.8, n_sku) * rng.uniform(0.2, 0.5, n_sku))[:, None]
    capacity = 0.9 * target.sum(axis=0)
    return stock, target, transfer, margin, capacity


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def end_to_end(n_sku: int, n_store: int, seed: int) -> dict[str, float]:
    args = instance(n_sku, n_store, seed)
    t0, c0 = time.perf_counter(), _cpu()
    model = build_model(*args)
    build, build_cpu = time.perf_counter() - t0, _cpu() - c0
    del model
    t0, c0 = time.perf_counter(), _cpu()
    got = allocate(*args)
    return {"build": build, "build_cpu": build_cpu, "e2e": time.perf_counter() - t0,
            "e2e_cpu": _cpu() - c0, "cost": got.cost, "sent": float(got.sent.sum())}


def highs_alone(n_sku: int, n_store: int, seed: int) -> dict[str, float]:
    import highspy

    model = build_model(*instance(n_sku, n_store, seed))
    n, m = len(model.cost), len(model.row_upper)
    t0, c0 = time.perf_counter(), _cpu()
    h = highspy.Highs()
    for name, value in HIGHS_OPTIONS.items():  # the options allocate() uses
        h.setOptionValue(name, value)
    h.passModel(n, m, len(model.index), int(highspy.MatrixFormat.kColwise),
                int(highspy.ObjSense.kMinimize), 0.0, model.cost, np.zeros(n), model.upper,
                np.full(m, -np.inf), model.row_upper, model.start[:-1], model.index,
                model.value, np.zeros(n, dtype=np.int32))
    t1 = time.perf_counter()
    h.run()
    t2 = time.perf_counter()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    x = np.asarray(h.getSolution().col_value)
    return {"alone": t2 - t0, "alone_cpu": _cpu() - c0, "run": t2 - t1,
            "objective": float(h.getInfo().objective_function_value), "columns": n, "rows": m,
            "nonzeros": len(model.index), "sum_x": float(x.sum())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--stores", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    _, alone_rss, alone = measure(highs_alone, a.skus, a.stores, a.seed)
    _, e2e_rss, e2e = measure(end_to_end, a.skus, a.stores, a.seed)
    assert abs(alone["sum_x"] - e2e["sent"]) <= 1e-6 * max(1.0, e2e["sent"])
    print(f"# allocation LP — {machine()}")
    print(f"# {a.skus} SKUs × {a.stores} stores: {alone['columns']:,} columns, "
          f"{alone['rows']:,} rows, {alone['nonzeros']:,} non-zeros")
    print("| step | wall s | CPU s | peak RSS MiB |")
    print("|---|---|---|---|")
    print(f"| model build (numpy → CSC) | {e2e['build']:.3f} | {e2e['build_cpu']:.3f} | |")
    print(f"| HiGHS alone: passModel + run | {alone['alone']:.2f} | {alone['alone_cpu']:.2f} "
          f"| {alone_rss:.0f} |")
    print(f"| HiGHS alone: run() only | {alone['run']:.2f} | | |")
    print(f"| end-to-end allocate() | {e2e['e2e']:.2f} | {e2e['e2e_cpu']:.2f} | {e2e_rss:.0f} |")
    ratio = e2e["e2e"] / alone["alone"]
    ratio_cpu = e2e["e2e_cpu"] / alone["alone_cpu"]
    print(f"\nend-to-end / HiGHS alone: {ratio:.3f} wall, {ratio_cpu:.3f} CPU (target ≤ 1.5); "
          f"objective {alone['objective']:.6g}, total cost {e2e['cost']:.6g}")
    print(f"command: python benchmarks/allocation_lp.py --skus {a.skus} --stores {a.stores} "
          f"--seed {a.seed}")


if __name__ == "__main__":
    main()
