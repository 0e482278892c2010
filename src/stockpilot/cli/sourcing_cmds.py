"""``stockpilot sourcing …`` (the network) and ``stockpilot transit …`` (shipments on the way)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import WorkspaceOpt, console, workspace

sourcing_app = typer.Typer(help="The sourcing network: each location's supplier or DC.",
                           no_args_is_help=True)
transit_app = typer.Typer(help="Transfers shipped and not yet received.", no_args_is_help=True)


@sourcing_app.command("import")
def sourcing_import(path: Path = typer.Argument(..., exists=True, dir_okay=False,
                                                help="CSV: location,source (supplier|dc:LOC)"),
                    ws: Path | None = WorkspaceOpt) -> None:
    """Replace the imported routes (all or nothing; ``[sourcing]`` in the toml wins)."""
    from stockpilot.store.uow import writing
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.sourcing import import_sourcing

    with writing(workspace(ws).engine) as uow:
        n = import_sourcing(uow, SYSTEM, path)
    console.print(f"{n} routes imported")


@sourcing_app.command("show")
def sourcing_show(ws: Path | None = WorkspaceOpt) -> None:
    """The routes the planner uses (imported, then ``[sourcing]`` from stockpilot.toml)."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.sourcing import routes

    w = workspace(ws)
    table = Table("location", "source kind", "source", title="Sourcing network")
    with reading(w.engine) as uow:
        found = routes(uow, SYSTEM, w.settings.sourcing)
    for r in found.iter_rows(named=True):
        table.add_row(r["location"], r["source_kind"], r["source"] or "its supplier")
    console.print(table)


@transit_app.command("list")
def transit_list(ws: Path | None = WorkspaceOpt) -> None:
    """Shipments in transit (counted in the destination's inventory position)."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.transit import open_shipments

    table = Table("id", "sku", "from", "to", "units", "expected", title="In transit")
    with reading(workspace(ws).engine) as uow:
        shipments = open_shipments(uow, SYSTEM)
    for r in shipments.iter_rows(named=True):
        table.add_row(str(r["id"]), r["sku"], r["from_location"], r["to_location"],
                      str(r["quantity"]), str(r["expected_at"] or "–"))
    console.print(table)


@transit_app.command("receive")
def transit_receive(shipment: int = typer.Argument(..., help="Shipment id (transit list)."),
                    ws: Path | None = WorkspaceOpt) -> None:
    """Receive a shipment at its destination (once)."""
    from stockpilot.store.uow import writing
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.transit import receive

    with writing(workspace(ws).engine) as uow:
        receive(uow, SYSTEM, shipment)
    console.print(f"shipment {shipment} received")


def register(app: typer.Typer) -> None:
    """Add ``sourcing`` and ``transit`` to the main command."""
    app.add_typer(sourcing_app, name="sourcing")
    app.add_typer(transit_app, name="transit")
