"""Network: sites with geography, the facility-location design, routes of the transfers.

Only calls :mod:`stockpilot.usecases.network` and :mod:`stockpilot.usecases.routing`.
Designs and routes are computed on request (bounded sizes and time limits) and not stored;
POSTs honour ``Idempotency-Key`` (a replay returns the first answer without solving again).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from stockpilot.api.deps import Ctx, Planner, Viewer, visible
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Out

router = APIRouter(tags=["network"], responses={**COMMON, **WRITES})

Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]


class SitePublic(Out):
    """A location with coordinates, capacity and costs."""

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


class ZoneIn(In):
    """A demand zone."""

    zone: Ident
    latitude: Lat
    longitude: Lon
    demand_units: Annotated[float, Field(ge=0, le=1e12)]


class DesignCreate(In):
    """Facility location over the stored sites (≤ 2,000 zones)."""

    zones: Annotated[list[ZoneIn], Field(min_length=1, max_length=2000)]
    cost_per_unit_km: Annotated[float, Field(ge=0, le=1e6)]
    current: Annotated[list[Ident], Field(max_length=500)] | None = None
    keep_current: bool = False
    single_sourcing: bool = False
    min_sites: Annotated[int, Field(ge=1, le=10_000)] | None = None
    max_sites: Annotated[int, Field(ge=1, le=10_000)] | None = None
    circuity: Annotated[float, Field(ge=1, le=5)] = 1.0
    time_limit_s: Annotated[float, Field(gt=0, le=60)] = 10.0


class LineIn(In):
    """One shipment line."""

    to_location: Ident
    qty: Annotated[int, Field(ge=0, le=1_000_000_000)]


class RoutesCreate(In):
    """Route the shipments from a DC: the given lines, or the latest plan's transfers."""

    dc: Ident
    lines: Annotated[list[LineIn], Field(max_length=5000)] | None = None
    time_limit_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    seed: Annotated[int, Field(ge=0, le=2**31)] = 0


@router.get("/network/sites")
def list_sites(who: Viewer, ctx: Ctx) -> list[SitePublic]:
    """Sites the key may see."""
    from stockpilot.usecases.network import list_sites as sites

    with ctx.uow() as uow:
        return [SitePublic(**vars(s)) for s in sites(uow, who)]


@router.post("/network/design")
def design(body: DesignCreate, who: Planner, ctx: Ctx, idem: Idem) -> dict[str, Any]:
    """Which sites to open and which zones each serves; compared with the current network."""
    from stockpilot.planning.network import DesignOptions, Zone
    from stockpilot.usecases.network import answer_dict, design_network

    done: dict[str, Any] = {}

    def work() -> None:  # the solve runs outside the idempotency record's write transaction
        zones = [Zone(z.zone, z.latitude, z.longitude, z.demand_units) for z in body.zones]
        opts = DesignOptions(body.cost_per_unit_km, body.single_sourcing, body.min_sites,
                             body.max_sites, body.circuity, body.time_limit_s)
        with ctx.uow() as uow:
            done["answer"] = answer_dict(design_network(
                uow, who, zones, opts, current=body.current, keep_current=body.keep_current))

    return idem.run(body, lambda _conn: (200, done["answer"]),  # type: ignore[return-value]
                    before=work)


@router.post("/network/routes")
def routes(body: RoutesCreate, who: Planner, ctx: Ctx, idem: Idem) -> dict[str, Any]:
    """Vehicle routes for the DC's shipments, with the one-truck baseline and a bound."""
    import polars as pl

    from stockpilot.jobs.transfers import plan_transfers
    from stockpilot.usecases.routing import route_transfers, routed_dict

    # explicit lines to a location not the key's are refused (404), not silently dropped
    visible(who, *(ln.to_location for ln in body.lines or []), what="location")
    done: dict[str, Any] = {}

    def work() -> None:
        if body.lines is None:
            lines = plan_transfers(ctx.engine, ctx.history, body.dc)
        else:
            lines = pl.DataFrame({"from_location": [body.dc] * len(body.lines),
                                  "to_location": [ln.to_location for ln in body.lines],
                                  "qty": [ln.qty for ln in body.lines]},
                                 schema={"from_location": pl.Utf8, "to_location": pl.Utf8,
                                         "qty": pl.Int64})
        with ctx.uow() as uow:
            done["routes"] = routed_dict(route_transfers(
                uow, who, lines, body.dc, ctx.settings.routing,
                time_limit_s=body.time_limit_s, seed=body.seed))

    return idem.run(body, lambda _conn: (200, done["routes"]),  # type: ignore[return-value]
                    before=work)
