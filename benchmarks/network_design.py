"""Facility location MILP and transfer routing at scale (issue 20).

    python benchmarks/network_design.py            # both, as `make bench` runs it
    python benchmarks/network_design.py milp [--sizes 50x10,200x50,500x100,1000x200]
                                             [--time-limit 60] [--seed 7]
    python benchmarks/network_design.py routing [--stops 10,50,200] [--time-limit 10]

Synthetic, seeded instances:

* **milp** — zones and candidate sites uniform over a 1,500 × 1,500 km square of Europe
  (lat 43–57, lon −5–20), demand lognormal (median 1,000 units/period), capacities uniform
  0.1–0.4 of total demand (so several sites must open), fixed costs uniform 20k–80k per period,
  handling 0.2–0.6 per unit, transport 0.001 per unit-km; split sourcing; HiGHS through
  ``scipy.optimize.milp`` with the strong formulation. Reports wall time, status, the relative
  gap HiGHS reports at the end (0 = proven optimal) and the peak RSS of a fresh process.
* **routing** — a DC near Birmingham and stores uniform within ±1.5° latitude/±2° longitude,
  40–400 units each, trucks of 1,500 units, 60 km/h, 12 h shift, 15 min a stop, a third of the
  stores with a 3-hour receiving window opening 0–5 h after a direct truck could arrive;
  PyVRP for ``--time-limit`` seconds. Reports distance
  and cost against one truck per destination and against the distance lower bound
  (max of the radial bound and the MST).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine, measure


def milp_case(n: int, m: int, seed: int, time_limit: float, strong: bool = True,
              nearest: int | None = None) -> dict[str, float | str]:
    from stockpilot.planning.network import DesignOptions, Site, Zone, solve_design

    rng = np.random.default_rng(seed)
    lat = rng.uniform(43, 57, n + m)
    lon = rng.uniform(-5, 20, n + m)
    demand = rng.lognormal(np.log(1000), 0.8, n)
    total = demand.sum()
    zones = [Zone(f"z{i}", lat[i], lon[i], float(demand[i])) for i in range(n)]
    sites = [Site(f"s{j}", lat[n + j], lon[n + j], float(rng.uniform(0.1, 0.4) * total),
                  float(rng.uniform(20_000, 80_000)), float(rng.uniform(0.2, 0.6)))
             for j in range(m)]
    d = solve_design(zones, sites, DesignOptions(cost_per_unit_km=0.001,
                                                 time_limit_s=time_limit, mip_rel_gap=1e-4,
                                                 strong_linking=strong,
                                                 nearest_sites=nearest))
    return {"status": d.status, "gap": d.gap, "open": len(d.open_sites), "cost": d.total_cost,
            "bound": d.bound, "solve_s": d.seconds}


def routing_case(n: int, seed: int, time_limit: float) -> dict[str, float | int]:
    from stockpilot.planning.geo import haversine_km
    from stockpilot.planning.routing import Fleet, Stop, solve_routes

    rng = np.random.default_rng(seed)
    stops = []
    for i in range(n):
        lat, lon = 52.48 + rng.uniform(-1.5, 1.5), -1.89 + rng.uniform(-2, 2)
        drive = 1.2 * float(haversine_km([52.48], [-1.89], [lat], [lon])[0, 0])  # min at 60 km/h
        start = int(drive + rng.uniform(0, 300)) if i % 3 == 0 else 0
        stops.append(Stop(f"S{i}", lat, lon, int(rng.integers(40, 400)), start,
                          start + 180 if i % 3 == 0 else None))
    fleet = Fleet(vehicles=max(5, n // 2), capacity_units=1500, speed_kmh=60, cost_per_km=1.1,
                  cost_per_hour=25, fixed_cost_per_vehicle=120, service_minutes=15,
                  shift_minutes=720, circuity=1.2)
    p = solve_routes((52.48, -1.89), stops, fleet, time_limit_s=time_limit, seed=seed)
    return {"routes": len(p.routes), "km": p.distance_km, "cost": p.cost,
            "base_trips": p.baseline_trips, "base_km": p.baseline_distance_km,
            "base_cost": p.baseline_cost, "bound_km": p.lower_bound_km,
            "gap_to_bound": p.gap_to_bound, "solve_s": p.seconds}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", nargs="?", choices=["milp", "routing", "all"], default="all")
    ap.add_argument("--sizes", default="50x10,200x50,500x100,1000x200")
    ap.add_argument("--stops", default="10,50,200")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--weak", action="store_true", help="MILP without the x ≤ y rows")
    ap.add_argument("--nearest", type=int, default=None,
                    help="assign each zone only among its k nearest candidates")
    a = ap.parse_args()
    print(f"# {machine()}; command: python benchmarks/network_design.py {' '.join(sys.argv[1:])}")
    if a.what in ("milp", "all"):
        _milp(a)
    if a.what in ("routing", "all"):
        _routing(a)


def _milp(a: argparse.Namespace) -> None:
    print("| zones × candidates | status | gap at end | sites open | cost | bound | wall s "
          "| solve s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in a.sizes.split(","):
        n, m = map(int, size.split("x"))
        wall, peak, r = measure(milp_case, n, m, a.seed, a.time_limit, not a.weak, a.nearest)
        print(f"| {n:,} × {m:,} | {r['status']} | {100 * float(r['gap']):.3f} % | "
              f"{r['open']} | {float(r['cost']):,.0f} | {float(r['bound']):,.0f} | "
              f"{wall:.1f} | {float(r['solve_s']):.1f} | {peak:,.0f} |", flush=True)


def _routing(a: argparse.Namespace) -> None:
    print("| stops | routes | km | cost | one truck each: trips / km / cost | cost saving "
          "| distance bound km | gap to bound | wall s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    limit = min(a.time_limit, 10.0) if a.what == "all" else a.time_limit
    for n in map(int, a.stops.split(",")):
        wall, peak, r = measure(routing_case, n, a.seed, limit)
        saving = 1 - float(r["cost"]) / float(r["base_cost"])
        print(f"| {n} | {r['routes']} | {float(r['km']):,.0f} | {float(r['cost']):,.0f} | "
              f"{r['base_trips']} / {float(r['base_km']):,.0f} / "
              f"{float(r['base_cost']):,.0f} | {100 * saving:.1f} % | "
              f"{float(r['bound_km']):,.0f} | {100 * float(r['gap_to_bound']):.1f} % | "
              f"{wall:.1f} | {peak:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
