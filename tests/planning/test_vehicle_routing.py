"""CVRP with time windows (PyVRP): feasibility checked independently, optimum on tiny cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from stockpilot.planning.routing import (
    Fleet,
    InfeasibleRouting,
    Stop,
    distance_matrix_km,
    lower_bound_km,
    solve_routes,
)

DC = (51.5, -0.12)


def _stops(n: int, seed: int = 0, units: tuple[int, int] = (50, 400)) -> list[Stop]:
    rng = np.random.default_rng(seed)
    return [Stop(f"S{i}", 51.5 + rng.uniform(-1, 1), -0.12 + rng.uniform(-1.5, 1.5),
                 int(rng.integers(*units))) for i in range(n)]


def _check_plan(plan, stops, fleet):
    """Every unit delivered once, loads within capacity, arrivals inside windows."""
    got: dict[str, int] = {}
    for r in plan.routes:
        assert r.load_units <= fleet.capacity_units
        assert r.load_units == sum(v.units for v in r.visits)
        for v in r.visits:
            got[v.stop] = got.get(v.stop, 0) + v.units
            s = next(s for s in stops if s.stop == v.stop)
            end = fleet.shift_minutes if s.window_end_min is None else s.window_end_min
            assert s.window_start_min - 1e-6 <= v.arrival_min <= end + 1e-6
    assert got == {s.stop: s.demand_units for s in stops if s.demand_units}
    assert len(plan.routes) <= fleet.vehicles
    assert plan.distance_km == pytest.approx(sum(r.distance_km for r in plan.routes))


def test_routes_are_feasible_and_between_bound_and_baseline():
    stops = _stops(25)
    fleet = Fleet(vehicles=10, capacity_units=1200, speed_kmh=50, cost_per_km=1.2,
                  fixed_cost_per_vehicle=80, shift_minutes=720)
    plan = solve_routes(DC, stops, fleet, time_limit_s=2)
    _check_plan(plan, stops, fleet)
    assert plan.lower_bound_km <= plan.distance_km + 1e-6
    assert plan.distance_km < plan.baseline_distance_km
    assert plan.cost < plan.baseline_cost and plan.saving > 0
    assert 0 <= plan.gap_to_bound < 1


def test_single_vehicle_tiny_case_is_the_optimal_tour():
    stops = _stops(5, seed=3, units=(1, 5))
    fleet = Fleet(vehicles=1, capacity_units=100, cost_per_km=1.0, circuity=1.0)
    plan = solve_routes(DC, stops, fleet, time_limit_s=1)
    dist = distance_matrix_km(DC, stops, 1.0)
    best = min(dist[0, p[0] + 1] + sum(dist[a + 1, b + 1] for a, b in itertools.pairwise(p))
               + dist[p[-1] + 1, 0] for p in itertools.permutations(range(5)))
    # PyVRP rounds legs to metres: allow a metre per leg
    assert plan.distance_km == pytest.approx(best, abs=0.006)


def test_a_stop_bigger_than_a_truck_is_split_into_loads():
    stops = [Stop("BIG", 51.6, -0.2, 2500), Stop("SMALL", 51.4, 0.1, 100)]
    fleet = Fleet(vehicles=4, capacity_units=1000)
    plan = solve_routes(DC, stops, fleet, time_limit_s=1)
    _check_plan(plan, stops, fleet)
    assert plan.baseline_trips == 4
    assert len(plan.routes) == 3


def test_time_windows_are_kept():
    stops = [Stop("EARLY", 51.6, -0.2, 10, 0, 60), Stop("LATE", 51.62, -0.21, 10, 300, 360),
             Stop("ANY", 51.3, 0.3, 10)]
    fleet = Fleet(vehicles=3, capacity_units=100, speed_kmh=40, shift_minutes=480)
    plan = solve_routes(DC, stops, fleet, time_limit_s=1)
    _check_plan(plan, stops, fleet)


def test_lower_bound_is_the_radial_bound_when_it_is_larger():
    dist = np.array([[0, 10, 10], [10, 0, 1], [10, 1, 0]], dtype=float)
    # radial: 2 * (8*10 + 8*10) / 10 = 32 > MST 11
    assert lower_bound_km(dist, [8, 8], 10) == pytest.approx(32)


def test_too_few_vehicles_is_named():
    stops = _stops(6, units=(600, 900))
    with pytest.raises(InfeasibleRouting, match="exceed the fleet"):
        solve_routes(DC, stops, Fleet(vehicles=2, capacity_units=1000), time_limit_s=0.5)


def test_window_outside_shift_is_named():
    with pytest.raises(InfeasibleRouting, match="'X'"):
        solve_routes(DC, [Stop("X", 51, 0, 1, 0, 900)], Fleet(shift_minutes=600))


def test_windows_out_of_reach_are_reported_infeasible():
    far = [Stop(f"F{i}", 55.0, -3.0 + i * 0.01, 10, 0, 30) for i in range(3)]  # 400 km in 30 min
    with pytest.raises(InfeasibleRouting, match="no feasible routes"):
        solve_routes(DC, far, Fleet(vehicles=3, capacity_units=100), time_limit_s=0.5)
