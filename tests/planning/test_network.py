"""Facility location MILP: against brute-force enumeration and the OR-Library p-median optimum."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse.csgraph import shortest_path

from stockpilot.planning.network import (
    DesignOptions,
    InfeasibleNetwork,
    Site,
    Zone,
    evaluate_network,
    solve_design,
)

DATA = Path(__file__).with_name("data")


def _instance(seed: int, n: int = 6, m: int = 4) -> tuple[list[Zone], list[Site], np.ndarray]:
    rng = np.random.default_rng(seed)
    zones = [Zone(f"z{i}", 0.0, 0.0, float(rng.integers(10, 60))) for i in range(n)]
    total = sum(z.demand_units for z in zones)
    sites = [Site(f"s{j}", 0.0, 0.0, capacity_units=float(rng.uniform(0.3, 0.7) * total),
                  fixed_cost=float(rng.uniform(50, 400)),
                  handling_cost_per_unit=float(rng.uniform(0, 2))) for j in range(m)]
    dist = rng.uniform(1, 30, size=(n, m))
    return zones, sites, dist


def _brute_force(zones, sites, dist, rate, single):
    """Cheapest cost over every subset of open sites (LP or enumerated single assignments)."""
    d = np.array([z.demand_units for z in zones])
    u = np.array([s.capacity_units for s in sites])
    h = np.array([s.handling_cost_per_unit for s in sites])
    unit = rate * dist + h[None, :]
    m = dist.shape[1]
    best = np.inf
    for k in range(1, m + 1):
        for subset in itertools.combinations(range(m), k):
            fixed = sum(sites[j].fixed_cost for j in subset)
            if u[list(subset)].sum() < d.sum():
                continue
            best = min(best, fixed + (_single(d, u, unit, subset) if single
                                      else _split(d, u, unit, subset)))
    return best


def _split(d, u, unit, subset):
    n, k = len(d), len(subset)
    c = (d[:, None] * unit[:, subset]).ravel()
    a_eq = np.kron(np.eye(n), np.ones(k))
    a_ub = np.zeros((k, n * k))
    for i in range(n):
        for jj in range(k):
            a_ub[jj, i * k + jj] = d[i]
    res = linprog(c, A_ub=a_ub, b_ub=u[list(subset)], A_eq=a_eq, b_eq=np.ones(n),
                  bounds=(0, 1), method="highs")
    return res.fun if res.status == 0 else np.inf


def _single(d, u, unit, subset):
    best = np.inf
    for assign in itertools.product(subset, repeat=len(d)):
        load = np.zeros(len(u))
        np.add.at(load, list(assign), d)
        if np.all(load <= u + 1e-9):
            best = min(best, sum(d[i] * unit[i, j] for i, j in enumerate(assign)))
    return best


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("single", [False, True])
def test_matches_brute_force_enumeration(seed, single):
    zones, sites, dist = _instance(seed)
    opts = DesignOptions(cost_per_unit_km=1.5, single_sourcing=single)
    design = solve_design(zones, sites, opts, distance_km=dist)
    assert design.status == "optimal"
    assert design.total_cost == pytest.approx(_brute_force(zones, sites, dist, 1.5, single),
                                              rel=1e-6)
    parts = design.cost_breakdown()
    assert sum(parts.values()) == pytest.approx(design.total_cost, rel=1e-6)
    for s in design.sites:
        if s.capacity_units is not None:
            assert s.demand_units <= s.capacity_units + 1e-6
    if single:
        assert all(len(v) == 1 for v in design.shares.values())


def _pmed(name: str) -> tuple[np.ndarray, int]:
    lines = (DATA / name).read_text().split("\n")
    n, _, p = map(int, lines[0].split())
    w = np.full((n, n), np.inf)
    for line in lines[1:]:
        if line.strip():
            a, b, length = map(int, line.split())
            w[a - 1, b - 1] = w[b - 1, a - 1] = length  # the last listing of an edge counts
    np.fill_diagonal(w, 0)
    return shortest_path(np.where(np.isinf(w), 0, w), method="D", directed=False), p


def test_reduces_to_the_or_library_p_median_optimum():
    """OR-Library pmed1 (Beasley 1985): 100 vertices, p = 5, optimal total distance 5819."""
    dist, p = _pmed("pmed1.txt")
    n = dist.shape[0]
    zones = [Zone(str(i), 0.0, 0.0, 1.0) for i in range(n)]
    loose = [Site(str(j), 0.0, 0.0, capacity_units=1e6) for j in range(n)]
    opts = DesignOptions(cost_per_unit_km=1.0, min_sites=p, max_sites=p, single_sourcing=True)
    design = solve_design(zones, loose, opts, distance_km=dist)
    assert design.status == "optimal"
    assert design.total_cost == pytest.approx(5819)
    assert len(design.open_sites) == p
    # loose capacities: the split-sourcing relaxation gives the same p-median value
    relaxed = solve_design(zones, loose, DesignOptions(cost_per_unit_km=1.0, min_sites=p,
                                                       max_sites=p), distance_km=dist)
    assert relaxed.total_cost == pytest.approx(5819)


def test_current_network_costs_at_least_the_optimum_and_explains_itself():
    zones, sites, dist = _instance(3)
    opts = DesignOptions(cost_per_unit_km=1.0)
    best = solve_design(zones, sites, opts, distance_km=dist)
    current = evaluate_network(zones, sites, ["s0", "s1"], opts, distance_km=dist)
    assert set(current.open_sites) == {"s0", "s1"}
    assert current.total_cost >= best.total_cost - 1e-6
    served = sum(s.demand_units for s in best.sites)
    assert served == pytest.approx(sum(z.demand_units for z in zones))
    for s in best.sites:
        if not s.open:
            assert s.demand_units == 0 and s.total_cost == 0


def test_great_circle_distance_used_when_none_given():
    london = Site("london", 51.5074, -0.1278)
    paris = Zone("paris", 48.8566, 2.3522, 10.0)
    design = solve_design([paris], [london], DesignOptions(cost_per_unit_km=1.0))
    # London-Paris great-circle distance is about 344 km
    assert design.distance_km["paris"]["london"] == pytest.approx(343.5, abs=2)
    assert design.total_cost == pytest.approx(10 * design.distance_km["paris"]["london"])


def test_capacity_short_is_named():
    zones = [Zone("a", 0, 0, 100.0)]
    sites = [Site("s", 0, 0, capacity_units=60.0), Site("t", 0, 0, capacity_units=30.0)]
    with pytest.raises(InfeasibleNetwork, match="exceeds the capacity"):
        solve_design(zones, sites, DesignOptions(), distance_km=np.ones((1, 2)))


def test_bad_demand_is_named():
    with pytest.raises(InfeasibleNetwork, match="zone 'a'"):
        solve_design([Zone("a", 0, 0, -1.0)], [Site("s", 0, 0)], DesignOptions())


def test_nearest_sites_restricts_assignments_and_never_beats_the_full_model():
    zones, sites, dist = _instance(4, n=8, m=5)
    full = solve_design(zones, sites, DesignOptions(cost_per_unit_km=1.0), distance_km=dist)
    same = solve_design(zones, sites, DesignOptions(cost_per_unit_km=1.0, nearest_sites=5),
                        distance_km=dist)
    assert same.total_cost == pytest.approx(full.total_cost)
    near = solve_design(zones, sites, DesignOptions(cost_per_unit_km=1.0, nearest_sites=3),
                        distance_km=dist)
    assert near.total_cost >= full.total_cost - 1e-6
    order = np.argsort(dist, axis=1)
    for i, z in enumerate(zones):
        allowed = {sites[j].site for j in order[i, :3]}
        assert set(near.shares[z.zone]) <= allowed
