"""Dashboard pages of the network: the sites on a map, and the routes of the DC's transfers.

The map is drawn by the vendored ECharts on a plain longitude/latitude plane (no tiles, no
internet). Routes are computed from the latest plan's transfers with a short time limit and
kept for a few minutes per DC and user scope, so reloading the page does not solve again.
"""

# No ``from __future__ import annotations`` here: FastAPI must see the ``viewer`` dependency
# passed in at run time, not its name as a string.
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stockpilot.errors import StockpilotError

ROUTE_TIME_LIMIT_S = 2.0
CACHE_SECONDS = 300.0
_cache: dict[tuple[str, str, float], tuple[float, dict[str, Any]]] = {}


def _sites(engine: Any, user: Any) -> list[dict[str, Any]]:
    from stockpilot.store.uow import reading
    from stockpilot.usecases.network import list_sites

    with reading(engine) as uow:
        found = list_sites(uow, user)
    return [{"location": s.location, "name": s.name, "kind": s.kind, "latitude": s.latitude,
             "longitude": s.longitude, "capacity_units": s.capacity_units,
             "fixed_cost_per_period": s.fixed_cost_per_period,
             "handling_cost_per_unit": s.handling_cost_per_unit}
            for s in found]


def _routes(src: Any, settings: Any, dc: str, user: Any) -> dict[str, Any]:
    from stockpilot.jobs.transfers import plan_transfers
    from stockpilot.usecases.routing import route_transfers, routed_dict

    if "latest" not in src.history.parts("plans"):
        raise StockpilotError("no plan yet: run `stockpilot plan` first")
    stamp = src.history.path("plans", "latest").stat().st_mtime
    key = (dc, ",".join(sorted(user.locations or [])), stamp)
    hit = _cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    lines = plan_transfers(src.engine, src.history, dc)
    from stockpilot.store.uow import reading

    with reading(src.engine) as uow:
        got = routed_dict(route_transfers(uow, user, lines, dc, settings.routing,
                                          time_limit_s=ROUTE_TIME_LIMIT_S))
    _cache[key] = (time.monotonic() + CACHE_SECONDS, got)
    return got


def _settings(request: Request) -> Any:
    api = getattr(request.app.state, "api", None)
    if api is not None:
        return api.settings
    from stockpilot.config import Settings

    return Settings()


def _visible_asns(engine: Any, user: Any, status: str | None) -> list[dict[str, Any]]:
    from stockpilot.store.uow import reading
    from stockpilot.usecases.vmi import list_asns

    with reading(engine) as uow:
        return list_asns(uow, user, None, status)


def add_routes(r: APIRouter, render: Callable[..., HTMLResponse], web_of: Callable[..., Any],
               viewer: Any, planner_post: Any = None) -> None:
    """Register ``/ui/network`` (map and routes) and ``/ui/vmi`` (suppliers' ASNs)."""

    @r.get("/ui/vmi")
    def vmi_page(request: Request, ctx: viewer) -> HTMLResponse:
        engine = web_of(request).src.engine
        return render(request, "vmi.html", ctx=ctx, page="vmi",
                      pending=_visible_asns(engine, ctx.user, "pending"),
                      decided=[a for a in _visible_asns(engine, ctx.user, None)
                               if a["status"] != "pending"][:50])

    if planner_post is not None:
        @r.post("/ui/vmi/{asn_id}/{action}")
        def vmi_decide(request: Request, asn_id: int, action: str,
                       ctx: planner_post) -> Response:
            from stockpilot.usecases.vmi import decide_asn

            engine = web_of(request).src.engine
            mine = {a["id"] for a in _visible_asns(engine, ctx.user, "pending")}
            if action not in ("approve", "reject") or asn_id not in mine:
                return render(request, "error.html", 404, ctx=ctx, title="Not found",
                              message=f"no pending ASN {asn_id} at your locations")
            from stockpilot.store.uow import writing

            with writing(engine) as uow:
                decide_asn(uow, ctx.user, asn_id, action == "approve",
                           by=f"user:{ctx.user.name}")
            return RedirectResponse("/ui/vmi", 303)

    @r.get("/ui/network")
    def network(request: Request, ctx: viewer, dc: str = "") -> HTMLResponse:
        web = web_of(request)
        sites = _sites(web.src.engine, ctx.user)
        routes, error = None, None
        if dc:
            if not ctx.user.sees(dc):
                return render(request, "error.html", 404, ctx=ctx, title="Not found",
                              message=f"No location {dc!r}.")
            try:
                routes = _routes(web.src, _settings(request), dc, ctx.user)
            except StockpilotError as exc:
                error = str(exc)
        dcs = [s["location"] for s in sites if s["kind"] not in ("store", "candidate")]
        return render(request, "network.html", ctx=ctx, page="network", sites=sites,
                      routes=routes, dc=dc, dcs=dcs, error=error,
                      map={"sites": sites, "routes": routes, "dc": dc})
