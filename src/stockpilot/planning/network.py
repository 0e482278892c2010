"""Facility location: which sites to open and which demand zones each one serves.

The capacitated facility location problem as a mixed-integer LP (Cornuéjols, Nemhauser &
Wolsey 1990, "The uncapacitated facility location problem", §2; capacitated form as in
Daskin 2013, *Network and Discrete Location*, 2nd ed., §6.3), solved by HiGHS through
:func:`scipy.optimize.milp`::

    min  Σ_j f_j y_j + Σ_i Σ_j (r · dist_ij + h_j) · d_i · x_ij
    s.t. Σ_j x_ij = 1                  every zone i is served in full
         Σ_i d_i x_ij ≤ u_j y_j        capacity of site j, and only if open
         x_ij ≤ y_j                    the strong linking (tighter LP bound)
         p_min ≤ Σ_j y_j ≤ p_max       optional number of sites
         y_j ∈ {0, 1};  x_ij ∈ [0, 1]  (x_ij ∈ {0, 1} with single sourcing)

``d_i`` is zone i's demand (units per period), ``f_j`` the fixed cost per period of site j,
``h_j`` its handling cost per unit, ``r`` the transport cost per unit and km, and ``dist_ij``
the great-circle distance times a circuity factor. With loose capacities, no fixed or
handling costs, and exactly ``p`` sites, it is the p-median problem (Hakimi 1964; ReVelle &
Swain 1970). Every answer explains itself: cost per site, demand served and utilisation.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from stockpilot.errors import StockpilotError
from stockpilot.planning.geo import haversine_km

FloatArray = npt.NDArray[np.float64]


class InfeasibleNetwork(StockpilotError):
    """No choice of sites can serve the demand (capacity short, or too few sites allowed)."""

    status = 422
    title = "Infeasible network"


@dataclass(frozen=True)
class Zone:
    """A demand zone: where the demand is and how much of it there is per period."""

    zone: str
    latitude: float
    longitude: float
    demand_units: float


@dataclass(frozen=True)
class Site:
    """A candidate (or existing) site.

    ``capacity_units`` None means unlimited. ``must_open`` forces the site open (an existing
    site you keep); ``may_open`` False keeps it closed.
    """

    site: str
    latitude: float
    longitude: float
    capacity_units: float | None = None
    fixed_cost: float = 0.0
    handling_cost_per_unit: float = 0.0
    must_open: bool = False
    may_open: bool = True


@dataclass(frozen=True)
class DesignOptions:
    """Knobs of one facility-location solve."""

    cost_per_unit_km: float = 0.0
    single_sourcing: bool = False
    min_sites: int | None = None
    max_sites: int | None = None
    circuity: float = 1.0  # road distance / great-circle distance
    time_limit_s: float = 60.0
    mip_rel_gap: float = 1e-6
    strong_linking: bool = True
    # Serve each zone only from its k nearest sites (and any site that must open): a smaller
    # model for large instances, exact only if the optimum uses no farther site.
    nearest_sites: int | None = None


@dataclass(frozen=True)
class SiteResult:
    """One site in the answer: open or not, what it costs and what it serves."""

    site: str
    open: bool
    fixed_cost: float
    handling_cost: float
    transport_cost: float
    demand_units: float
    capacity_units: float | None
    zones: tuple[str, ...]

    @property
    def total_cost(self) -> float:
        """Fixed + handling + transport cost of this site."""
        return self.fixed_cost + self.handling_cost + self.transport_cost

    @property
    def utilisation(self) -> float | None:
        """Demand served / capacity (None when capacity is unlimited)."""
        if self.capacity_units is None or self.capacity_units <= 0:
            return None
        return self.demand_units / self.capacity_units


@dataclass(frozen=True)
class Design:
    """A solved network: the open sites, who serves whom, and how sure the solver is."""

    status: str  # optimal | time_limit
    total_cost: float
    bound: float
    gap: float
    seconds: float
    sites: tuple[SiteResult, ...]
    shares: dict[str, dict[str, float]] = field(default_factory=dict)  # zone -> site -> share
    distance_km: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def open_sites(self) -> tuple[str, ...]:
        """Ids of the sites the answer opens."""
        return tuple(s.site for s in self.sites if s.open)

    def cost_breakdown(self) -> dict[str, float]:
        """Total fixed, handling and transport cost."""
        return {"fixed": sum(s.fixed_cost for s in self.sites),
                "handling": sum(s.handling_cost for s in self.sites),
                "transport": sum(s.transport_cost for s in self.sites)}


def distances(zones: Sequence[Zone], sites: Sequence[Site], circuity: float = 1.0
              ) -> FloatArray:
    """Zone × site distance matrix (km): great-circle distance times ``circuity``."""
    return circuity * haversine_km([z.latitude for z in zones], [z.longitude for z in zones],
                                   [s.latitude for s in sites], [s.longitude for s in sites])


def solve_design(zones: Sequence[Zone], sites: Sequence[Site], options: DesignOptions,
                 distance_km: FloatArray | None = None) -> Design:
    """Choose sites and assignments at least total cost (the MILP in the module docstring).

    Args:
        zones: Demand zones; zones with zero demand are served by nobody and cost nothing.
        sites: Candidate sites (existing ones with ``must_open``).
        options: Costs per unit-km, site-count bounds, single sourcing, solver limits.
        distance_km: Zone × site distances; the great-circle distances when None.

    Returns:
        The design, with the solver's bound and relative gap (0 when proven optimal).

    Raises:
        InfeasibleNetwork: when the capacities or site-count bounds cannot serve the demand,
            or the time limit passed before any feasible answer was found.
    """
    _check_inputs(zones, sites, options)
    dist = distances(zones, sites, options.circuity) if distance_km is None else distance_km
    n, m = len(zones), len(sites)
    d = np.array([z.demand_units for z in zones], dtype=float)
    zi, sj = _pairs(dist, sites, options.nearest_sites)
    c, integrality, bounds = _objective(d, dist, sites, options, zi, sj)
    constraints = _constraints(d, sites, options, n, m, zi, sj)
    start = time.perf_counter()
    res = milp(c, constraints=constraints, integrality=integrality, bounds=bounds,
               options={"time_limit": options.time_limit_s,
                        "mip_rel_gap": options.mip_rel_gap, "disp": False})
    seconds = time.perf_counter() - start
    if res.x is None:
        raise InfeasibleNetwork(_infeasible_reason(d, sites, options, res.message))
    y = res.x[:m] > 0.5
    x = np.zeros((n, m))
    x[zi, sj] = np.where(res.x[m:] < 1e-9, 0.0, res.x[m:])
    status = "optimal" if res.status == 0 else "time_limit"
    bound = float(getattr(res, "mip_dual_bound", res.fun) or res.fun)
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    return _explain(zones, sites, dist, d, y, x, options, status, float(res.fun), bound, gap,
                    seconds)


def evaluate_network(zones: Sequence[Zone], sites: Sequence[Site], open_sites: Sequence[str],
                     options: DesignOptions, distance_km: FloatArray | None = None) -> Design:
    """Cost of a given network (e.g. the current one): these sites open, zones best assigned.

    The same MILP with every ``y_j`` fixed, so the comparison with :func:`solve_design` uses
    the same costs and the same (optimal) assignment rule.
    """
    keep = set(open_sites)
    unknown = keep - {s.site for s in sites}
    if unknown:
        raise InfeasibleNetwork(f"unknown site(s) in the network: {', '.join(sorted(unknown))}")
    fixed = [Site(s.site, s.latitude, s.longitude, s.capacity_units, s.fixed_cost,
                  s.handling_cost_per_unit, must_open=s.site in keep, may_open=s.site in keep)
             for s in sites]
    free = DesignOptions(options.cost_per_unit_km, options.single_sourcing, None, None,
                         options.circuity, options.time_limit_s, options.mip_rel_gap,
                         options.strong_linking)
    return solve_design(zones, fixed, free, distance_km)


def _check_inputs(zones: Sequence[Zone], sites: Sequence[Site], options: DesignOptions) -> None:
    if not zones or not sites:
        raise InfeasibleNetwork("need at least one demand zone and one candidate site")
    for z in zones:
        if not np.isfinite(z.demand_units) or z.demand_units < 0:
            raise InfeasibleNetwork(f"zone {z.zone!r}: demand must be a number >= 0, "
                                    f"got {z.demand_units}")
    for s in sites:
        if s.capacity_units is not None and s.capacity_units < 0:
            raise InfeasibleNetwork(f"site {s.site!r}: capacity must be >= 0")
        if s.fixed_cost < 0 or s.handling_cost_per_unit < 0:
            raise InfeasibleNetwork(f"site {s.site!r}: costs must be >= 0")
    if options.cost_per_unit_km < 0 or options.circuity <= 0:
        raise InfeasibleNetwork("cost per unit-km must be >= 0 and circuity > 0")


def _pairs(dist: FloatArray, sites: Sequence[Site], k: int | None
           ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(zone, site) index pairs that get an assignment variable: all, or the k nearest."""
    n, m = dist.shape
    if k is None or k >= m:
        zi, sj = np.divmod(np.arange(n * m), m)
        return zi.astype(np.int64), sj.astype(np.int64)
    keep = np.zeros((n, m), dtype=bool)
    near = np.argpartition(dist, k - 1, axis=1)[:, :k]
    keep[np.arange(n)[:, None], near] = True
    keep[:, [j for j, s in enumerate(sites) if s.must_open]] = True
    zi, sj = np.nonzero(keep)
    return zi.astype(np.int64), sj.astype(np.int64)


def _objective(d: FloatArray, dist: FloatArray, sites: Sequence[Site], options: DesignOptions,
               zi: npt.NDArray[np.int64], sj: npt.NDArray[np.int64]
               ) -> tuple[FloatArray, FloatArray, Bounds]:
    """Cost vector over (y, x), integrality and bounds."""
    m = len(sites)
    f = np.array([s.fixed_cost for s in sites], dtype=float)
    h = np.array([s.handling_cost_per_unit for s in sites], dtype=float)
    per_unit = options.cost_per_unit_km * dist[zi, sj] + h[sj]
    c = np.concatenate([f, d[zi] * per_unit])
    integrality = np.zeros(c.size)
    integrality[:m] = 1
    if options.single_sourcing:
        integrality[m:] = 1
    lb = np.zeros(c.size)
    ub = np.ones(c.size)
    lb[:m] = [1.0 if s.must_open else 0.0 for s in sites]
    ub[:m] = [1.0 if s.may_open or s.must_open else 0.0 for s in sites]
    return c, integrality, Bounds(lb, ub)


def _constraints(d: FloatArray, sites: Sequence[Site], options: DesignOptions, n: int, m: int,
                 zone_of: npt.NDArray[np.int64], site_of: npt.NDArray[np.int64]
                 ) -> list[LinearConstraint]:
    """Assignment, capacity, linking and site-count rows (sparse)."""
    nx = zone_of.size
    xi = np.arange(nx)
    assign = sparse.csr_matrix((np.ones(nx), (zone_of, m + xi)), shape=(n, m + nx))
    total = float(d.sum())
    cap = np.array([total if s.capacity_units is None else min(s.capacity_units, total)
                    for s in sites], dtype=float)
    cap_rows = np.concatenate([site_of, np.arange(m)])
    cap_cols = np.concatenate([m + xi, np.arange(m)])
    cap_vals = np.concatenate([d[zone_of], -cap])
    capacity = sparse.csr_matrix((cap_vals, (cap_rows, cap_cols)), shape=(m, m + nx))
    out = [LinearConstraint(assign, 1.0, 1.0), LinearConstraint(capacity, -np.inf, 0.0)]
    if options.strong_linking:
        link = sparse.csr_matrix(
            (np.concatenate([np.ones(nx), -np.ones(nx)]),
             (np.concatenate([xi, xi]), np.concatenate([m + xi, site_of]))), shape=(nx, m + nx))
        out.append(LinearConstraint(link, -np.inf, 0.0))
    if options.min_sites is not None or options.max_sites is not None:
        count = sparse.csr_matrix((np.ones(m), (np.zeros(m, dtype=int), np.arange(m))),
                                  shape=(1, m + nx))
        lo = -np.inf if options.min_sites is None else options.min_sites
        hi = np.inf if options.max_sites is None else options.max_sites
        out.append(LinearConstraint(count, lo, hi))
    return out


def _infeasible_reason(d: FloatArray, sites: Sequence[Site], options: DesignOptions,
                       message: str) -> str:
    usable = [s for s in sites if s.may_open or s.must_open]
    if any(s.capacity_units is None for s in usable):
        capacity = float("inf")
    else:
        capacity = float(sum(s.capacity_units or 0.0 for s in usable))
    if capacity < d.sum():
        return (f"demand {d.sum():,.0f} units exceeds the capacity of every usable site "
                f"together ({capacity:,.0f} units)")
    forced = sum(s.must_open for s in sites)
    if options.max_sites is not None and forced > options.max_sites:
        return f"{forced} sites must stay open but at most {options.max_sites} may"
    return f"no feasible network found ({message})"


def _explain(zones: Sequence[Zone], sites: Sequence[Site], dist: FloatArray, d: FloatArray,
             y: npt.NDArray[np.bool_], x: FloatArray, options: DesignOptions, status: str,
             total: float, bound: float, gap: float, seconds: float) -> Design:
    """Per-site cost breakdown, demand served and zones; per-zone shares and distances."""
    flow = d[:, None] * x  # units from site j to zone i
    results = []
    for j, s in enumerate(sites):
        served = flow[:, j]
        results.append(SiteResult(
            site=s.site, open=bool(y[j]), fixed_cost=s.fixed_cost if y[j] else 0.0,
            handling_cost=float(served.sum() * s.handling_cost_per_unit),
            transport_cost=float(options.cost_per_unit_km * (served * dist[:, j]).sum()),
            demand_units=float(served.sum()), capacity_units=s.capacity_units,
            zones=tuple(zones[int(i)].zone for i in np.flatnonzero(x[:, j] > 1e-6))))
    shares = {z.zone: {sites[int(j)].site: float(x[i, j]) for j in np.flatnonzero(x[i] > 1e-6)}
              for i, z in enumerate(zones)}
    dkm = {z.zone: {sites[int(j)].site: float(dist[i, j]) for j in np.flatnonzero(x[i] > 1e-6)}
           for i, z in enumerate(zones)}
    return Design(status, total, bound, gap, seconds, tuple(results), shares, dkm)
