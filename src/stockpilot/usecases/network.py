"""Network use cases: location sites (geography, capacity, costs) and the facility-location design.

The edges (CLI, API, dashboard) call these and never touch tables. They take an open
:class:`~stockpilot.store.uow.UnitOfWork` and the :class:`~stockpilot.usecases.actor.Actor`,
which limits the sites it gets (:data:`~stockpilot.usecases.actor.SYSTEM`: all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, select

from stockpilot.errors import InvalidRow, StockpilotError
from stockpilot.ingest.spec import Col, FileSpec, validate
from stockpilot.planning.network import (
    Design,
    DesignOptions,
    InfeasibleNetwork,
    Site,
    Zone,
    evaluate_network,
    solve_design,
)
from stockpilot.store import schema as t
from stockpilot.store import schema_network as tn
from stockpilot.store.db import dialect_insert
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import SYSTEM, Actor, check_locations, require

SITE_COLUMNS = ("latitude", "longitude", "capacity_units", "capacity_volume_m3",
                "handling_cost_per_unit", "fixed_cost_per_period", "opens_on", "closes_on")
CANDIDATE_KIND = "candidate"  # a location of this kind is a candidate, not part of the network

ZONES_SPEC = FileSpec("zones", (
    Col("zone", "str", doc="demand zone id (a country, a postcode area, a store, …)"),
    Col("latitude", "decimal", rule="latitude"),
    Col("longitude", "decimal", rule="longitude"),
    Col("demand_units", "decimal", rule="nonneg", doc="units per period"),
    Col("name", "str", required=False),
), ("zone",), "demand zones for the network design")


class NoSites(StockpilotError):
    """The network design needs candidate sites with coordinates, and there are none."""

    status = 409
    title = "No sites"


@dataclass(frozen=True)
class SiteRow:
    """A location with its geography, as stored."""

    location: str
    name: str
    kind: str
    latitude: float
    longitude: float
    capacity_units: int | None
    capacity_volume_m3: float | None
    handling_cost_per_unit: float
    fixed_cost_per_period: float
    opens_on: date | None
    closes_on: date | None

    def operating(self, on: date) -> bool:
        """True when the site is part of the network on day ``on`` (not a candidate)."""
        return (self.kind != CANDIDATE_KIND and (self.opens_on is None or self.opens_on <= on)
                and (self.closes_on is None or self.closes_on >= on))


@dataclass(frozen=True)
class NetworkAnswer:
    """The best design, the current network's cost under the same rules, and the saving."""

    design: Design
    current: Design | None
    current_sites: tuple[str, ...]
    zones: tuple[Zone, ...]
    sites: tuple[SiteRow, ...]

    @property
    def saving(self) -> float | None:
        """Current cost − best cost per period (None when there is no current network)."""
        return None if self.current is None else self.current.total_cost - self.design.total_cost


def site_problems(df: pl.DataFrame, file: str) -> list[InvalidRow]:
    """Row rules of the locations file that span columns (coordinates in pairs, dates ordered)."""
    if "latitude" not in df.columns:
        return []
    problems = []
    extra = [c for c in SITE_COLUMNS[2:] if c in df.columns]
    for r in df.iter_rows(named=True):
        has_lat, has_lon = r.get("latitude") is not None, r.get("longitude") is not None
        if has_lat != has_lon:
            problems.append(InvalidRow(file, r["row"], "longitude" if has_lat else "latitude",
                                       "latitude and longitude go together"))
        elif not has_lat and any(r.get(c) is not None for c in extra):
            problems.append(InvalidRow(file, r["row"], "latitude",
                                       "a site with capacity, costs or dates needs coordinates"))
        if r.get("opens_on") and r.get("closes_on") and r["closes_on"] < r["opens_on"]:
            problems.append(InvalidRow(file, r["row"], "closes_on", "before opens_on"))
    return problems


def upsert_sites(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert or replace the site row of each location that has coordinates; returns how many."""
    now = datetime.now(UTC)
    sites = [{"location": r["location"], **{c: r.get(c) for c in SITE_COLUMNS},
              "handling_cost_per_unit": r.get("handling_cost_per_unit") or 0,
              "fixed_cost_per_period": r.get("fixed_cost_per_period") or 0, "updated_at": now}
             for r in rows if r.get("latitude") is not None]
    if not sites:
        return 0
    stmt = dialect_insert(conn, tn.location_sites)
    stmt = stmt.on_conflict_do_update(
        index_elements=["location"],
        set_={c: stmt.excluded[c] for c in (*SITE_COLUMNS, "updated_at")})
    conn.execute(stmt, sites)
    return len(sites)


def list_sites(uow: UnitOfWork, actor: Actor) -> list[SiteRow]:
    """Every location with geography the actor may see, sorted by id."""
    s, loc = tn.location_sites, t.locations
    query = select(s, loc.c.name, loc.c.kind).join(loc, loc.c.location == s.c.location) \
        .order_by(s.c.location)
    if actor.locations is not None:
        query = query.where(s.c.location.in_(actor.scope() or []))
    return [_site_row(r) for r in uow.conn.execute(query).mappings()]


def _site_row(r: Any) -> SiteRow:
    def num(v: Any) -> float | None:
        return None if v is None else float(v)
    return SiteRow(r["location"], r["name"] or r["location"], r["kind"], float(r["latitude"]),
                   float(r["longitude"]), None if r["capacity_units"] is None
                   else int(r["capacity_units"]), num(r["capacity_volume_m3"]),
                   float(r["handling_cost_per_unit"]), float(r["fixed_cost_per_period"]),
                   r["opens_on"], r["closes_on"])


def read_zones(path: Path) -> list[Zone]:
    """Demand zones from a CSV/Parquet file (``zone, latitude, longitude, demand_units``)."""
    df = validate(path, ZONES_SPEC)
    return [Zone(r["zone"], r["latitude"], r["longitude"], r["demand_units"])
            for r in df.iter_rows(named=True)]


def design_network(uow: UnitOfWork, actor: Actor, zones: Sequence[Zone],
                   options: DesignOptions, *, current: Sequence[str] | None = None,
                   keep_current: bool = False, on: date | None = None) -> NetworkAnswer:
    """Solve the facility location over the stored sites and compare with the current network.

    The design is of the whole network (every stored site), as before scoping moved here; a
    planner limited to locations may only name its own as ``current``.

    Args:
        uow: An open unit of work (read-only is enough; on SQLite's WAL the solve holding it
            blocks no writer).
        actor: A planner or above.
        zones: Demand zones (e.g. from :func:`read_zones`).
        options: Costs and solver settings.
        current: Ids of today's network; by default every operating site that is not a
            candidate (kind ``candidate``) on day ``on``.
        keep_current: Keep the current sites open (the question becomes "where to add").
        on: The day that decides which sites operate (default today).

    Raises:
        NoSites: no location has coordinates.
        InfeasibleNetwork: no choice of sites serves the demand.
        Forbidden / NotFound: the actor is below planner, or names a site not its own.
    """
    require(actor, "planner")
    check_locations(actor, current or [], "site")
    rows = list_sites(uow, SYSTEM)
    if not rows:
        raise NoSites("no location has coordinates yet: import locations with latitude and "
                      "longitude (docs/import-formats.md)")
    day = on or datetime.now(UTC).date()
    now_ids = tuple(current) if current is not None else tuple(
        r.location for r in rows if r.operating(day))
    unknown = set(now_ids) - {r.location for r in rows}
    if unknown:
        raise InfeasibleNetwork(f"no site with coordinates for: {', '.join(sorted(unknown))}")
    sites = [Site(r.location, r.latitude, r.longitude,
                  None if r.capacity_units is None else float(r.capacity_units),
                  r.fixed_cost_per_period, r.handling_cost_per_unit,
                  must_open=keep_current and r.location in now_ids,
                  may_open=r.closes_on is None or r.closes_on >= day) for r in rows]
    best = solve_design(zones, sites, options)
    now_design = evaluate_network(zones, sites, now_ids, options) if now_ids else None
    return NetworkAnswer(best, now_design, now_ids, tuple(zones), tuple(rows))


def answer_dict(answer: NetworkAnswer) -> dict[str, Any]:
    """The answer as plain data (JSON for the CLI and the API)."""
    def design(d: Design) -> dict[str, Any]:
        return {"status": d.status, "total_cost": d.total_cost, "bound": d.bound, "gap": d.gap,
                "seconds": d.seconds, "open_sites": list(d.open_sites),
                "cost": d.cost_breakdown(),
                "sites": [{"site": s.site, "open": s.open, "fixed_cost": s.fixed_cost,
                           "handling_cost": s.handling_cost,
                           "transport_cost": s.transport_cost, "total_cost": s.total_cost,
                           "demand_units": s.demand_units, "capacity_units": s.capacity_units,
                           "utilisation": s.utilisation, "zones": list(s.zones)}
                          for s in d.sites if s.open],
                "assignment": d.shares}
    return {"best": design(answer.design),
            "current": None if answer.current is None else design(answer.current),
            "current_sites": list(answer.current_sites), "saving": answer.saving}
