"""``stockpilot network …``: sites on the map, facility location, routing the transfers."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import WorkspaceOpt, console, spinner, workspace

app = typer.Typer(help="Network design: sites, facility location, routing of transfers.",
                  no_args_is_help=True)


@app.command("sites")
def sites(ws: Path | None = WorkspaceOpt) -> None:
    """List the locations that have coordinates, capacity and costs."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.network import list_sites

    with reading(workspace(ws).engine) as uow:
        rows = list_sites(uow, SYSTEM)
    table = Table("location", "kind", "lat", "lon", "capacity", "fixed/period", "handling/unit")
    for r in rows:
        table.add_row(r.location, r.kind, f"{r.latitude:.4f}", f"{r.longitude:.4f}",
                      "∞" if r.capacity_units is None else f"{r.capacity_units:,}",
                      f"{r.fixed_cost_per_period:,.2f}", f"{r.handling_cost_per_unit:,.4f}")
    console.print(table)


@app.command("zones")
def zones(online_retail: Path = typer.Option(..., "--online-retail", exists=True,
                                             help="The Online Retail invoices CSV(.gz)."),
          out: Path = typer.Option(..., "--out", "-o", help="Zones CSV to write."),
          sites_out: Path | None = typer.Option(
              None, "--sites-out", help="Also write a locations file with a candidate site "
              "at each capital (import it with `stockpilot import locations`)."),
          home: str = typer.Option("GB", help="Zone whose capital is today's warehouse."),
          capacity: int | None = typer.Option(None, min=0, help="Capacity of each candidate "
                                              "(units per period; default unlimited)."),
          fixed_cost: float = typer.Option(0.0, min=0.0, help="Fixed cost per period of a "
                                           "candidate site."),
          handling: float = typer.Option(0.0, min=0.0, help="Handling cost per unit."),
          continent: str | None = typer.Option(None, help="Only zones and candidates on this "
                                               "continent (GeoNames code: EU, AS, NA, …).")
          ) -> None:
    """Demand zones from Online Retail: units per month by country, at the capital."""
    from stockpilot.ingest.online_retail_zones import candidate_sites, country_zones

    with spinner("reading invoices"):
        cz = country_zones(online_retail, continent)
    cz.zones.select("zone", "name", "latitude", "longitude", "demand_units").write_csv(out)
    console.print(f"{cz.zones.height} zones, {cz.zones['demand_units'].sum():,.0f} units per "
                  f"month → {out}")
    if cz.dropped:
        console.print("not placed: " + ", ".join(f"{k} ({v:,} units)"
                                                 for k, v in cz.dropped.items()))
    if sites_out:
        candidate_sites(cz, home, capacity, fixed_cost, handling).write_csv(sites_out)
        console.print(f"candidate sites → {sites_out}")


@app.command("design")
def design(zones_file: Path = typer.Option(..., "--zones", exists=True,
                                           help="Zones CSV: zone, latitude, longitude, "
                                           "demand_units."),
           cost_per_unit_km: float = typer.Option(..., "--cost-per-unit-km", min=0.0,
                                                  help="Transport cost per unit and km."),
           current: list[str] = typer.Option([], "--current", help="A site of today's network "
                                             "(repeatable; default: every operating site that "
                                             "is not a candidate)."),
           keep_current: bool = typer.Option(False, "--keep-current",
                                             help="Keep today's sites open."),
           single_sourcing: bool = typer.Option(False, "--single-sourcing",
                                                help="Each zone served by one site."),
           max_sites: int | None = typer.Option(None, min=1, help="At most this many sites."),
           min_sites: int | None = typer.Option(None, min=1, help="At least this many sites."),
           circuity: float = typer.Option(1.0, min=1.0, help="Road / great-circle distance."),
           time_limit: float = typer.Option(60.0, min=0.1, help="Solver time limit (s)."),
           nearest_sites: int | None = typer.Option(
               None, min=1, help="Serve each zone from its k nearest sites only (large "
               "instances; exact only if no farther site is used)."),
           json_out: Path | None = typer.Option(None, "--json", help="Write the answer as JSON."),
           ws: Path | None = WorkspaceOpt) -> None:
    """Which sites to open and which zones each serves, at least cost (MILP, HiGHS)."""
    from stockpilot.planning.network import DesignOptions
    from stockpilot.usecases.network import answer_dict, design_network, read_zones

    opts = DesignOptions(cost_per_unit_km, single_sourcing, min_sites, max_sites, circuity,
                         time_limit, nearest_sites=nearest_sites)
    from stockpilot.store.uow import reading
    from stockpilot.usecases.actor import SYSTEM

    w = workspace(ws)
    zones = read_zones(zones_file)
    with spinner("solving"), reading(w.engine) as uow:
        answer = design_network(uow, SYSTEM, zones, opts, current=current or None,
                                keep_current=keep_current)
    _print_design("best network", answer.design)
    if answer.current is not None:
        _print_design(f"current network ({', '.join(answer.current_sites)})", answer.current)
        saving = answer.saving or 0.0
        pct = 100 * saving / answer.current.total_cost if answer.current.total_cost else 0.0
        console.print(f"[bold]saving per period: {saving:,.2f} ({pct:.1f} %)[/]")
    if json_out:
        json_out.write_text(json.dumps(answer_dict(answer), indent=2, default=str))
        console.print(f"written to {json_out}")


def _print_design(title: str, d: object) -> None:
    from stockpilot.planning.network import Design

    assert isinstance(d, Design)
    table = Table("site", "fixed", "handling", "transport", "total", "units", "util.", "zones",
                  title=f"{title}: {d.total_cost:,.2f} per period ({d.status}, gap "
                        f"{100 * d.gap:.2f} %, {d.seconds:.2f} s)")
    for s in d.sites:
        if s.open:
            util = "—" if s.utilisation is None else f"{100 * s.utilisation:.0f} %"
            table.add_row(s.site, f"{s.fixed_cost:,.0f}", f"{s.handling_cost:,.0f}",
                          f"{s.transport_cost:,.0f}", f"{s.total_cost:,.0f}",
                          f"{s.demand_units:,.0f}", util, " ".join(s.zones[:12])
                          + (" …" if len(s.zones) > 12 else ""))
    console.print(table)


@app.command("routes")
def routes(dc: str = typer.Option(..., "--from", help="The distribution centre."),
           lines_file: Path | None = typer.Option(
               None, "--lines", exists=True, help="Transfer lines to route (CSV with "
               "from_location, to_location, qty); default: the latest plan's transfers."),
           time_limit: float = typer.Option(5.0, "--time-limit", min=0.1,
                                            help="Solver time limit (s)."),
           seed: int = typer.Option(0, help="Random seed of the search."),
           json_out: Path | None = typer.Option(None, "--json", help="Write the routes as JSON."),
           ws: Path | None = WorkspaceOpt) -> None:
    """Route the DC → stores shipments as vehicle routes (CVRP with time windows, PyVRP)."""
    from stockpilot.jobs.transfers import plan_transfers
    from stockpilot.usecases.routing import read_lines, route_transfers, routed_dict

    w = workspace(ws)
    lines = read_lines(lines_file) if lines_file else plan_transfers(w.engine, w.history, dc)
    from stockpilot.store.uow import reading
    from stockpilot.usecases.actor import SYSTEM

    with spinner(f"routing (up to {time_limit:g} s)"), reading(w.engine) as uow:
        routed = route_transfers(uow, SYSTEM, lines, dc, w.settings.routing,
                                 time_limit_s=time_limit, seed=seed)
    p = routed.plan
    for r in p.routes:
        console.print(f"[bold]vehicle {r.vehicle}[/]: {r.load_units:,} units, "
                      f"{r.distance_km:,.1f} km, {r.duration_min:,.0f} min, cost {r.cost:,.2f}")
        for v in r.visits:
            console.print(f"  +{v.arrival_min:5.0f} min  {v.stop:<12} {v.units:>7,} units "
                          f"({v.distance_from_previous_km:,.1f} km)", highlight=False)
    console.print(f"{len(p.routes)} routes, {p.distance_km:,.1f} km, cost {p.cost:,.2f} — one "
                  f"truck per destination: {p.baseline_trips} trips, "
                  f"{p.baseline_distance_km:,.1f} km, cost {p.baseline_cost:,.2f}; saving "
                  f"{p.saving:,.2f}; distance lower bound {p.lower_bound_km:,.1f} km (gap ≤ "
                  f"{100 * p.gap_to_bound:.1f} %)")
    if json_out:
        json_out.write_text(json.dumps(routed_dict(routed), indent=2))
        console.print(f"written to {json_out}")
