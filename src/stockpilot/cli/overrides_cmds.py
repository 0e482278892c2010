"""``stockpilot overrides set|list|remove``: planner overrides as data."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import WorkspaceOpt, console, workspace

app = typer.Typer(help="Planner overrides: service level, fixed levels, forecast adjustments.",
                  no_args_is_help=True)
KINDS_HELP = ("service_level (0-1), order_up_to, min, max, forecast_factor (× over START..END) "
              "or forecast_units (+units over START..END)")


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected a date YYYY-MM-DD") from None


@app.command("set")
def set_cmd(sku: str = typer.Argument(..., help="The SKU."),
            kind: str = typer.Argument(..., help=KINDS_HELP),
            value: float = typer.Argument(..., help="The level, factor or units."),
            location: str | None = typer.Option(None, help="Only this location (default: all)."),
            start: str | None = typer.Option(None, help="First day (YYYY-MM-DD)."),
            end: str | None = typer.Option(None, help="Last day (YYYY-MM-DD)."),
            expires: str | None = typer.Option(None, help="Last day it holds (YYYY-MM-DD)."),
            author: str | None = typer.Option(None, help="Who sets it (default: you)."),
            note: str | None = typer.Option(None, help="Why."),
            ws: Path | None = WorkspaceOpt) -> None:
    """Set an override; the next plan applies it and names it in the reason."""
    from stockpilot.store.uow import transact
    from stockpilot.usecases.overrides import OverrideIn, set_override

    o = OverrideIn(sku=sku, kind=kind, value=value, location=location, start=_day(start),
                   end=_day(end), expires=_day(expires), note=note,
                   author=author or getpass.getuser())
    console.print(f"override {transact(workspace(ws).engine, set_override, o)} set")


@app.command("list")
def list_cmd(sku: str | None = typer.Option(None, help="Only this SKU."),
             ws: Path | None = WorkspaceOpt) -> None:
    """Overrides, newest last, with whether each is in force today."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.overrides import list_overrides

    table = Table("id", "sku", "location", "kind", "value", "from", "to", "expires", "author",
                  "active", "note", title="Planner overrides")
    with reading(workspace(ws).engine) as uow:
        found = list_overrides(uow, SYSTEM, sku)
    for r in found.iter_rows(named=True):
        table.add_row(str(r["id"]), r["sku"], r["location"], r["kind"], f"{r['value']:g}",
                      str(r["start"] or ""), str(r["end"] or ""), str(r["expires"] or ""),
                      r["author"], "yes" if r["active"] else "no", r["note"] or "")
    console.print(table)


@app.command("remove")
def remove_cmd(override_id: int = typer.Argument(..., help="The id (overrides list)."),
               ws: Path | None = WorkspaceOpt) -> None:
    """Remove an override."""
    from stockpilot.store.uow import writing
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.overrides import remove_override

    with writing(workspace(ws).engine) as uow:
        remove_override(uow, SYSTEM, override_id)
    console.print(f"override {override_id} removed")
