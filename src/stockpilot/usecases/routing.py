"""Routing use case: the DC → stores shipments of a transfer plan, as vehicle routes.

Shipments are transfer lines: the allocation of the latest plan (``jobs.transfers``, which the
edges call) or a transfer-lines file; they are summed per destination, placed at the locations'
coordinates (``location_sites``) and routed by :func:`stockpilot.planning.routing.solve_routes`
with the fleet of ``[routing]``. :func:`route_transfers` takes an open
:class:`~stockpilot.store.uow.UnitOfWork` and the :class:`~stockpilot.usecases.actor.Actor`: it
routes from the actor's DC to the actor's stores only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from stockpilot.config import RoutingSettings
from stockpilot.errors import StockpilotError
from stockpilot.ingest.spec import Col, FileSpec, validate
from stockpilot.planning.routing import Fleet, Plan, Stop, solve_routes
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, check_locations
from stockpilot.usecases.network import list_sites

LINES_SPEC = FileSpec("transfer_lines", (
    Col("sku", "str", required=False),
    Col("from_location", "str"),
    Col("to_location", "str"),
    Col("qty", "int", rule="nonneg"),
), (), "transfer lines (e.g. from `stockpilot transfers plan --out`)")


class MissingCoordinates(StockpilotError):
    """A location to route from or to has no coordinates."""

    status = 409
    title = "Missing coordinates"


@dataclass(frozen=True)
class RoutedTransfers:
    """The routes from one DC and the stops they serve."""

    dc: str
    stops: tuple[Stop, ...]
    plan: Plan


def fleet_from(settings: RoutingSettings) -> Fleet:
    """The fleet described by ``[routing]``."""
    return Fleet(settings.vehicles, settings.capacity_units, settings.speed_kmh,
                 settings.cost_per_km, settings.cost_per_hour, settings.fixed_cost_per_vehicle,
                 settings.service_minutes, round(settings.shift_hours * 60), settings.circuity)


def _minutes(clock: str) -> int:
    hours, _, minutes = clock.partition(":")
    return int(hours) * 60 + int(minutes)


def window_of(settings: RoutingSettings, location: str) -> tuple[int, int | None]:
    """A location's receiving window in minutes after the shift start (clipped to the shift)."""
    text = settings.windows.get(location)
    if not text:
        return 0, None
    try:
        start, end = (_minutes(p.strip()) for p in text.split("-"))
    except ValueError:
        raise StockpilotError(f"[routing.windows] {location} = {text!r}: expected "
                              "\"HH:MM-HH:MM\"") from None
    shift0, shift = _minutes(settings.shift_start), round(settings.shift_hours * 60)
    return max(0, start - shift0), min(shift, max(0, end - shift0))


def read_lines(path: Path) -> pl.DataFrame:
    """Transfer lines from a file (``from_location, to_location, qty``, optional ``sku``)."""
    return validate(path, LINES_SPEC)


def route_transfers(uow: UnitOfWork, actor: Actor, lines: pl.DataFrame, dc: str,
                    settings: RoutingSettings, *, time_limit_s: float = 5.0, seed: int = 0
                    ) -> RoutedTransfers:
    """Route the shipments from ``dc`` in ``lines`` (units summed per destination).

    Destinations outside the actor's locations are left out. ``uow`` may be read-only; on
    SQLite's WAL the solve holding it blocks no writer.

    Raises:
        NotFound: ``dc`` is not among the actor's locations.
        MissingCoordinates: the DC or a destination has no coordinates (all are named).
        InfeasibleRouting: the fleet cannot serve the shipments.
    """
    check_locations(actor, [dc], f"location {dc!r}")
    per_stop = (lines.filter(pl.col("from_location") == dc)
                .group_by("to_location").agg(pl.col("qty").sum()).filter(pl.col("qty") > 0)
                .sort("to_location"))
    if actor.locations is not None:
        per_stop = per_stop.filter(pl.col("to_location").is_in(sorted(actor.locations)))
    sites = {s.location: s for s in list_sites(uow, actor)}
    missing = sorted({dc, *per_stop["to_location"].to_list()} - set(sites))
    if missing:
        raise MissingCoordinates("no coordinates for " + ", ".join(missing) + ": import them "
                                 "with `stockpilot import locations` (latitude, longitude)")
    stops = tuple(Stop(loc, sites[loc].latitude, sites[loc].longitude, int(qty),
                       *window_of(settings, loc)) for loc, qty in per_stop.iter_rows())
    depot = (sites[dc].latitude, sites[dc].longitude)
    plan = solve_routes(depot, stops, fleet_from(settings), time_limit_s=time_limit_s,
                        seed=seed)
    return RoutedTransfers(dc, stops, plan)


def routed_dict(routed: RoutedTransfers) -> dict[str, Any]:
    """The routes as plain data (JSON for the CLI and the API)."""
    p = routed.plan
    return {
        "dc": routed.dc, "stops": len(routed.stops), "distance_km": p.distance_km,
        "cost": p.cost, "seconds": p.seconds, "lower_bound_km": p.lower_bound_km,
        "gap_to_bound": p.gap_to_bound,
        "baseline": {"trips": p.baseline_trips, "distance_km": p.baseline_distance_km,
                     "cost": p.baseline_cost},
        "saving": p.saving,
        "routes": [{"vehicle": r.vehicle, "load_units": r.load_units,
                    "distance_km": r.distance_km, "duration_min": r.duration_min,
                    "cost": r.cost,
                    "visits": [{"stop": v.stop, "arrival_min": v.arrival_min, "units": v.units,
                                "distance_from_previous_km": v.distance_from_previous_km}
                               for v in r.visits]} for r in p.routes],
    }
