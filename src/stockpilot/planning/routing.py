"""Routing the transfers: DC → stores shipments as a capacitated VRP with time windows.

Solved by PyVRP's hybrid genetic search (Wouda, Lan & Kool 2024, "PyVRP: a high-performance VRP
solver package", INFORMS J. Computing 36(4); after Vidal 2022, "Hybrid genetic search for the
CVRP: open-source implementation and SWAP* neighborhood", Comput. Oper. Res. 140). The search
is a heuristic, so every answer carries two yardsticks:

* **one truck per destination** — each store gets its own round trip(s) from the DC, the plan
  a routing solver must beat;
* a **lower bound** on the distance: the larger of the radial bound 2 Σ_i q_i d_0i / Q
  (Haimovich & Rinnooy Kan 1985, "Bounds and heuristics for capacitated routing problems",
  Math. Oper. Res. 10(4), Lemma 1) and the weight of a minimum spanning tree over the DC and
  the stops (every set of routes visiting all stops contains a spanning tree). Both hold with
  time windows too, which only remove solutions.

Distances are great-circle km times a circuity factor; PyVRP works on integers, so distances go
in metres and times in seconds.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse.csgraph import minimum_spanning_tree

from stockpilot.errors import StockpilotError
from stockpilot.planning.geo import haversine_km

FloatArray = npt.NDArray[np.float64]


class InfeasibleRouting(StockpilotError):
    """The fleet cannot serve the stops (too few vehicles, or a window out of reach)."""

    status = 422
    title = "Infeasible routing"


@dataclass(frozen=True)
class Stop:
    """A destination: where, how many units, and when it can receive (minutes after shift start)."""

    stop: str
    latitude: float
    longitude: float
    demand_units: int
    window_start_min: int = 0
    window_end_min: int | None = None  # None: until the end of the shift


@dataclass(frozen=True)
class Fleet:
    """Vehicles and costs (``[routing]`` in stockpilot.toml)."""

    vehicles: int = 10
    capacity_units: int = 1000
    speed_kmh: float = 60.0
    cost_per_km: float = 1.0
    cost_per_hour: float = 0.0
    fixed_cost_per_vehicle: float = 0.0
    service_minutes: float = 15.0
    shift_minutes: int = 600
    circuity: float = 1.2


@dataclass(frozen=True)
class Visit:
    """One stop of a route: when the truck arrives and what it leaves."""

    stop: str
    arrival_min: float
    units: int
    distance_from_previous_km: float


@dataclass(frozen=True)
class Route:
    """One vehicle's trip from the DC and back."""

    vehicle: int
    visits: tuple[Visit, ...]
    load_units: int
    distance_km: float
    duration_min: float
    cost: float


@dataclass(frozen=True)
class Plan:
    """Routes plus the yardsticks: the one-truck-per-destination plan and a distance bound."""

    routes: tuple[Route, ...]
    distance_km: float
    cost: float
    feasible: bool
    seconds: float
    baseline_trips: int
    baseline_distance_km: float
    baseline_cost: float
    lower_bound_km: float

    @property
    def saving(self) -> float:
        """Baseline cost − routed cost."""
        return self.baseline_cost - self.cost

    @property
    def gap_to_bound(self) -> float:
        """(distance − bound) / distance: how far from optimal the distance can at most be."""
        return 0.0 if self.distance_km <= 0 else \
            (self.distance_km - self.lower_bound_km) / self.distance_km


def distance_matrix_km(depot: tuple[float, float], stops: Sequence[Stop], circuity: float
                       ) -> FloatArray:
    """Road-distance estimate between the DC (index 0) and the stops (1…n)."""
    lat = [depot[0], *[s.latitude for s in stops]]
    lon = [depot[1], *[s.longitude for s in stops]]
    return circuity * haversine_km(lat, lon, lat, lon)


def lower_bound_km(dist: FloatArray, demand: Sequence[int], capacity: int) -> float:
    """max(radial bound, MST weight): no set of routes serving every stop is shorter."""
    q = np.asarray(demand, dtype=float)
    radial = 2.0 * float((q * dist[0, 1:]).sum()) / capacity
    mst = float(minimum_spanning_tree(dist).sum())
    return max(radial, mst)


def one_truck_per_destination(dist: FloatArray, stops: Sequence[Stop], fleet: Fleet
                              ) -> tuple[int, float, float]:
    """(trips, km, cost) when each stop gets its own full-or-partial truckloads, out and back."""
    trips = [math.ceil(s.demand_units / fleet.capacity_units) for s in stops]
    km = float(sum(2 * dist[0, i + 1] * n for i, n in enumerate(trips)))
    hours = km / fleet.speed_kmh + sum(trips) * fleet.service_minutes / 60
    cost = km * fleet.cost_per_km + hours * fleet.cost_per_hour \
        + sum(trips) * fleet.fixed_cost_per_vehicle
    return sum(trips), km, cost


def solve_routes(depot: tuple[float, float], stops: Sequence[Stop], fleet: Fleet, *,
                 time_limit_s: float = 5.0, seed: int = 0) -> Plan:
    """Route the shipments; a stop larger than a truck is split into full loads first.

    Args:
        depot: (latitude, longitude) of the DC.
        stops: Destinations with units and receiving windows.
        fleet: Vehicles, capacities, speed and costs.
        time_limit_s: Wall-clock limit of the search.
        seed: Random seed of the search (same seed, same answer).

    Raises:
        InfeasibleRouting: bad inputs, or no feasible routes found within the time limit.
    """
    _check(stops, fleet)
    stops = [s for s in stops if s.demand_units > 0]
    dist = distance_matrix_km(depot, stops, fleet.circuity)
    demand = [s.demand_units for s in stops]
    trips, base_km, base_cost = one_truck_per_destination(dist, stops, fleet)
    bound = lower_bound_km(dist, demand, fleet.capacity_units) if stops else 0.0
    if not stops:
        return Plan((), 0.0, 0.0, True, 0.0, 0, 0.0, 0.0, 0.0)
    start = time.perf_counter()
    routes, feasible = _search(dist, stops, fleet, time_limit_s, seed)
    seconds = time.perf_counter() - start
    if not feasible:
        raise InfeasibleRouting(f"no feasible routes for {len(stops)} stops with "
                                f"{fleet.vehicles} vehicles of {fleet.capacity_units} units "
                                f"within {time_limit_s:g} s (more vehicles, wider windows or "
                                "a longer limit may help)")
    km = sum(r.distance_km for r in routes)
    return Plan(tuple(routes), km, sum(r.cost for r in routes), True, seconds, trips, base_km,
                base_cost, bound)


def _check(stops: Sequence[Stop], fleet: Fleet) -> None:
    if fleet.vehicles < 1 or fleet.capacity_units < 1 or fleet.speed_kmh <= 0:
        raise InfeasibleRouting("the fleet needs at least one vehicle, capacity >= 1 and a "
                                "positive speed")
    total = sum(max(s.demand_units, 0) for s in stops)
    if total > fleet.vehicles * fleet.capacity_units:
        raise InfeasibleRouting(f"{total:,} units exceed the fleet's {fleet.vehicles} vehicles "
                                f"× {fleet.capacity_units:,} units")
    for s in stops:
        if s.demand_units < 0:
            raise InfeasibleRouting(f"stop {s.stop!r}: units must be >= 0")
        end = fleet.shift_minutes if s.window_end_min is None else s.window_end_min
        if not 0 <= s.window_start_min <= end <= fleet.shift_minutes:
            raise InfeasibleRouting(f"stop {s.stop!r}: window {s.window_start_min}-{end} min "
                                    f"is not inside the shift (0-{fleet.shift_minutes} min)")


def _search(dist: FloatArray, stops: Sequence[Stop], fleet: Fleet, time_limit_s: float,
            seed: int) -> tuple[list[Route], bool]:
    """Build the PyVRP model (big stops split into truckloads), solve, read the routes back."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    model = Model()
    depot_loc = model.add_location(0, 0)
    depot = model.add_depot(depot_loc, tw_early=0, tw_late=fleet.shift_minutes * 60)
    nodes = [depot_loc]  # model location per matrix index
    clients: list[tuple[int, int]] = []  # client index -> (stop index, units)
    for i, s in enumerate(stops):
        loc = model.add_location(0, 0, name=s.stop)
        nodes.append(loc)
        end = fleet.shift_minutes if s.window_end_min is None else s.window_end_min
        left = s.demand_units
        while left > 0:
            part = min(left, fleet.capacity_units)
            model.add_client(loc, delivery=[part],
                             service_duration=round(fleet.service_minutes * 60),
                             tw_early=s.window_start_min * 60, tw_late=end * 60, name=s.stop)
            clients.append((i, part))
            left -= part
    fixed = 0 if fleet.cost_per_km <= 0 else \
        round(fleet.fixed_cost_per_vehicle / fleet.cost_per_km * 1000)
    model.add_vehicle_type(fleet.vehicles, capacity=[fleet.capacity_units], start_depot=depot,
                           end_depot=depot, fixed_cost=fixed, tw_early=0,
                           tw_late=fleet.shift_minutes * 60, unit_distance_cost=1)
    metres = np.rint(dist * 1000).astype(np.int64)
    seconds = np.rint(dist / fleet.speed_kmh * 3600).astype(np.int64)
    for a, la in enumerate(nodes):
        for b, lb in enumerate(nodes):
            model.add_edge(la, lb, distance=int(metres[a, b]), duration=int(seconds[a, b]))
    with warnings.catch_warnings():  # "penalty at its maximum": we report infeasible ourselves
        warnings.simplefilter("ignore")
        result = model.solve(MaxRuntime(time_limit_s), seed=seed, display=False)
    if not result.is_feasible():
        return [], False
    return [_route(k, r, stops, clients, dist, fleet)
            for k, r in enumerate(result.best.routes())], True


def _route(k: int, r: Any, stops: Sequence[Stop], clients: list[tuple[int, int]],
           dist: FloatArray, fleet: Fleet) -> Route:
    """One PyVRP route as visits (arrival, units, leg length), with its distance and cost."""
    visits, prev, km = [], 0, 0.0
    for act in r.schedule():
        if not act.is_client():
            continue
        i, units = clients[act.idx]
        leg = float(dist[prev, i + 1])
        km += leg
        visits.append(Visit(stops[i].stop, act.start_time / 60, units, leg))
        prev = i + 1
    km += float(dist[prev, 0])
    duration = (r.end_time() - r.start_time()) / 60
    cost = km * fleet.cost_per_km + duration / 60 * fleet.cost_per_hour \
        + fleet.fixed_cost_per_vehicle
    return Route(k + 1, tuple(visits), sum(v.units for v in visits), km, duration, cost)
