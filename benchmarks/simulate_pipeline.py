"""The real planner as "ours": the planning pipeline replayed on history, beside the baselines.

    python benchmarks/simulate_pipeline.py --dataset online_retail --window early
    python benchmarks/simulate_pipeline.py --dataset m5 --window late --methods default

Every review (weekly, lead time 7 days unless ``--lead-time``), "ours" calls
:func:`stockpilot.planning.pipeline.build_plan` with data before that day
(:mod:`stockpilot.simulate.replay`; forecasts refit every ``--refit-days`` on data before the
refit). ``--methods`` lists the law choices to run: ``default`` (the per-class choice of
``DEFAULT_METHODS``) or one method for every SKU (``forecast-quantiles``, ``compound-poisson``,
``empirical-quantiles``, ``negative-binomial``, ``normal-theory`` = normal theory on the same
forecasts); ``raw`` is ``default`` without the ``--level-map`` calibration. Each is swept
over the service target (same for all SKUs). ERP min/max (k sweep) and the oracle run on
the same days. Windows: ``late`` = the last ``--weeks`` weeks of the data, ``early`` = the
``--weeks`` weeks before them (choose on early, report on late).

Money: unit cost = 60% of the price (M5: the last weekly price before the window; Online
Retail: the median unit price), holding 25% a year, 0 per order; lost margin = lost × 40% of
the price. Lost sales, starting stock = 14 days of the trailing 28-day mean.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from simulate_policies import load
from stockpilot.forecast.classify import demand_classes
from stockpilot.forecast.data import prepare
from stockpilot.planning.pipeline import DEFAULT_METHODS, PlanOptions
from stockpilot.simulate import strategies as st
from stockpilot.simulate.engine import Setup, Trace, simulate
from stockpilot.simulate.kpis import Costs, cycle_service_level, kpis
from stockpilot.simulate.replay import Forecasts, Replay, Terms
from stockpilot.simulate.run import inventory_at_fill, matrix

ROOT = Path(__file__).resolve().parents[1]
K_SWEEP = (0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)
FILLS = (0.80, 0.85, 0.90, 0.95, 0.98)


def prices(dataset: str, data: Path, ids: list[str], before: date) -> np.ndarray:
    """Unit price per SKU (see the module docs); 1.0 where unknown."""
    if dataset == "m5":
        from stockpilot.ingest import m5

        cal = m5.read_calendar(data / "m5" / "calendar.csv.gz")
        wk = cal.filter(pl.col("date") < before)["wm_yr_wk"].max()
        p = m5.read_prices(data / "m5" / "sell_prices.csv.gz").filter(
            pl.col("wm_yr_wk") <= wk).sort("wm_yr_wk").group_by("sku", "location").agg(
            pl.col("sell_price").last().alias("price")).select(
            (pl.col("sku") + "@" + pl.col("location")).alias("unique_id"), "price")
    else:
        from stockpilot.ingest.online_retail import read_invoices

        inv = read_invoices(data / "online_retail" / "online_retail.csv.gz")
        loc = ids[0].split("@", 1)[1]
        p = inv.filter(pl.col("unit_price") > 0).group_by("stock_code").agg(
            pl.col("unit_price").median().alias("price")).select(
            (pl.col("stock_code").cast(pl.Utf8) + "@" + loc).alias("unique_id"), "price")
    got = pl.DataFrame({"unique_id": ids}).join(p, on="unique_id", how="left")
    return got["price"].fill_null(1.0).to_numpy().astype(float)


def fit_level_map(rows: list[dict[str, object]], methods: dict[str, str] | object
                  ) -> dict[str, tuple[tuple[float, ...], tuple[float, ...]]]:
    """Per class, achieved CSL (running max) against the quantile level, from earlier rows.

    A class uses the rows of its own method (``ours[<method>]``, or ``ours[default]``); the
    ``"*"`` curve (all SKUs of ``ours[default]`` or of the first policy) serves the rest.
    """
    out: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {}
    chosen = dict(methods)  # type: ignore[call-overload]
    for klass, method in chosen.items():
        for policy in (f"ours[{method}]", "ours[default]"):
            pts = sorted((float(r["knob"]), float(r["classes"][klass]["cycle_service_level"]))
                         for r in rows if r["policy"] == policy and klass in r["classes"])
            if len(pts) >= 2:
                achieved = np.maximum.accumulate([p[1] for p in pts])
                out[klass] = (tuple(achieved), tuple(p[0] for p in pts))
                break
    return out


def class_kpis(trace: Trace, costs: Costs, classes: np.ndarray) -> dict[str, dict[str, float]]:
    """Fill, average on hand per SKU and holding cost per demand class."""
    out = {}
    csl = cycle_service_level(trace)
    for c in np.unique(classes):
        m = classes == c
        d = trace.demand[m].sum()
        out[str(c)] = {
            "n": float(m.sum()), "fill_rate": float(trace.sales[m].sum() / d) if d else 1.0,
            "avg_on_hand_per_sku": float(np.clip(trace.on_hand_end[m], 0, None).mean()),
            "cycle_service_level": float(csl[m].mean())}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", choices=["m5", "online_retail"], default="online_retail")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--window", choices=["early", "late"], default="early")
    ap.add_argument("--weeks", type=int, default=13)
    ap.add_argument("--lead-time", type=int, default=7)
    ap.add_argument("--refit-days", type=int, default=28)
    ap.add_argument("--levels", default="0.7,0.85,0.9,0.95,0.98,0.99")
    ap.add_argument("--methods", default="default")
    ap.add_argument("--max-skus", type=int, default=0, help="0 = all")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--report", type=Path, default=None,
                    help="only print the report of a run's --out JSON (same other options)")
    ap.add_argument("--level-map", type=Path, default=None,
                    help="JSON rows of an EARLIER window's run: learn target → quantile level "
                         "per demand class from it (for the default method choice)")
    args = ap.parse_args()
    hist = prepare(load(args.dataset, args.data)).df
    end: date = hist["ds"].max()  # type: ignore[assignment]
    days = 7 * args.weeks
    start = end - timedelta(days=days - 1)
    if args.window == "early":
        start -= timedelta(days=days)
    stop = start + timedelta(days=days - 1)
    if args.report:
        rows = json.loads(args.report.read_text())
        n = len({u for u in hist["unique_id"].unique()}) if not args.max_skus else args.max_skus
        report(rows, args, n, start, stop, float("nan"))
        return
    ids_all, full = matrix(hist, hist["ds"].min(), stop)  # type: ignore[arg-type]
    if args.max_skus:
        keep = sorted(np.random.default_rng(0).choice(len(ids_all), args.max_skus, False))
        ids_all, full = [ids_all[i] for i in keep], full[keep]
        hist = hist.join(pl.DataFrame({"unique_id": ids_all}), on="unique_id", how="semi")
    ids = ids_all
    hist = hist.filter(pl.col("ds") <= stop)
    s0 = full.shape[1] - days
    demand = full[:, s0:]
    n, lead = len(ids), args.lead_time
    price = prices(args.dataset, args.data, ids, start)
    costs = Costs(unit_cost=0.6 * price, price=price)
    cls = demand_classes(hist.filter(pl.col("ds") < start,
                                     pl.col("ds") >= start - timedelta(days=365)))
    klass = pl.DataFrame({"unique_id": ids}).join(cls, on="unique_id", how="left")[
        "demand_class"].fill_null("zero").to_numpy()
    on_hand0 = np.rint(st.trailing_mean(full, s0, 1)[:, 0] * (lead + 7)).astype(np.int64)
    terms = Terms(lead_time_days=np.full(n, lead), moq=np.zeros(n, dtype=np.int64),
                  pack_size=np.ones(n, dtype=np.int64), unit_cost=costs.unit_cost)
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    fc = Forecasts(hist, refit_days=args.refit_days, horizon=args.refit_days + lead + 7,
                   progress=say)
    level_map = fit_level_map(json.loads(args.level_map.read_text()), DEFAULT_METHODS) \
        if args.level_map else None
    if level_map:
        say(f"level map: {level_map}")
    rows: list[dict[str, object]] = []
    t0 = time.perf_counter()
    for method in args.methods.split(","):
        methods = dict(DEFAULT_METHODS) if method in ("default", "raw") else {
            "*": method} | {c: method for c in DEFAULT_METHODS}
        for level in (float(x) for x in args.levels.split(",")):
            t1 = time.perf_counter()
            rp = Replay(hist, ids, start, terms, np.full(n, level), fc,
                        PlanOptions(methods=methods,
                                    level_map=level_map if method == "default" else None))
            trace = rp.run(demand, on_hand0)
            row = {"policy": f"ours[{method}]", "knob": level, **kpis(trace, costs),
                   "classes": class_kpis(trace, costs, klass),
                   "seconds": time.perf_counter() - t1}
            rows.append(row)
            say(f"{row['policy']} {level}: fill {row['fill_rate']:.4f} CSL "
                f"{row['cycle_service_level']:.4f} on hand {row['avg_on_hand_per_sku']:.2f} "
                f"({row['seconds']:.0f} s)")
    setup = Setup(lead, 7)
    for k in K_SWEEP:
        tr = simulate(demand, st.erp_min_max(full, s0, days, setup, k), on_hand0, setup)
        rows.append({"policy": "erp_min_max", "knob": k, **kpis(tr, costs),
                     "classes": class_kpis(tr, costs, klass)})
    tr = simulate(demand, st.oracle(full, s0, days, setup), on_hand0, setup)
    rows.append({"policy": "oracle", "knob": 1.0, **kpis(tr, costs),
                 "classes": class_kpis(tr, costs, klass)})
    wall = time.perf_counter() - t0
    report(rows, args, n, start, stop, wall)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1, default=str))


def report(rows: list[dict[str, object]], args: argparse.Namespace, n: int, start: date,
           stop: date, wall: float) -> None:
    """Print the KPI table, equal-fill inventory, CSL vs target and per-class curves."""
    print(f"# pipeline replay on {args.dataset} ({args.window}): {n} series, {start} … {stop},"
          f" lead time {args.lead_time} d, weekly review — {machine()}")
    print("| policy | knob | fill | CSL | avg on hand / SKU | holding cost | lost margin | "
          "waste | ordering | orders |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['policy']} | {r['knob']:.2f} | {r['fill_rate']:.4f} | "
              f"{r['cycle_service_level']:.4f} | {r['avg_on_hand_per_sku']:.2f} | "
              f"{r['holding_cost']:,.0f} | {r['lost_margin']:,.0f} | {r['waste_cost']:,.0f} | "
              f"{r['ordering_cost']:,.0f} | {r['orders_placed']:,.0f} |")
    policies = [p for p in dict.fromkeys(str(r["policy"]) for r in rows)
                if p not in ("erp_min_max", "oracle")]
    oracle = next(r for r in rows if r["policy"] == "oracle")
    o_inv = float(oracle["avg_on_hand_per_sku"])  # type: ignore[arg-type]
    print(f"\noracle: fill {oracle['fill_rate']:.4f} at {o_inv:.2f} units/SKU")
    print("\n| fill | ERP min/max | " + " | ".join(f"{p} (vs min/max, gap closed)"
                                                  for p in policies) + " |")
    print("|---|---|" + "---|" * len(policies))
    for fill in FILLS:
        e = inventory_at_fill(rows, "erp_min_max", fill)
        cells = []
        for p in policies:
            v = inventory_at_fill(rows, p, fill)
            cells.append("n/a" if v is None or e is None else
                         f"{v:.2f} ({(v / e - 1) * 100:+.1f}%, {(e - v) / (e - o_inv):.0%})")
        print(f"| {fill:.0%} | {'n/a' if e is None else f'{e:.2f}'} | " + " | ".join(cells)
              + " |")
    print("\n| policy | target | achieved CSL | fill |\n|---|---|---|---|")
    for r in rows:
        if str(r["policy"]).startswith("ours"):
            print(f"| {r['policy']} | {r['knob']:.2f} | {r['cycle_service_level']:.4f} | "
                  f"{r['fill_rate']:.4f} |")
    per_class(rows, [*policies, "erp_min_max"])
    print(f"\nwall {wall:.0f} s; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"command: python benchmarks/simulate_pipeline.py --dataset {args.dataset} "
          f"--window {args.window} --weeks {args.weeks} --lead-time {args.lead_time} "
          f"--refit-days {args.refit_days} --levels {args.levels} --methods {args.methods}"
          + (f" --max-skus {args.max_skus}" if args.max_skus else "")
          + (f" --level-map {args.level_map}" if args.level_map else ""))


def per_class(rows: list[dict[str, object]], policies: list[str]) -> None:
    """Average on hand per SKU at equal fill (95%, 90%) per demand class and policy."""
    classes = sorted({c for r in rows for c in r["classes"]})  # type: ignore[attr-defined]
    print("\n| class (SKUs) | fill | " + " | ".join(policies) + " |")
    print("|---|---|" + "---|" * len(policies))
    for c in classes:
        sub = {p: [{"policy": p, **r["classes"][c]} for r in rows  # type: ignore[index]
                   if r["policy"] == p and c in r["classes"]] for p in policies}  # type: ignore[operator]
        n = next(iter(v[0]["n"] for v in sub.values() if v))
        for fill in (0.90, 0.95):
            cells = []
            for p in policies:
                v = inventory_at_fill(sub[p], p, fill)
                cells.append("n/a" if v is None else f"{v:.2f}")
            print(f"| {c} ({n:.0f}) | {fill:.0%} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
