"""``stockpilot list …``: the dashboard's worklists in the terminal, and their exports."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, workspace
from stockpilot.store.artifacts import ArtifactStore
from stockpilot.store.uow import reading
from stockpilot.usecases import worklists
from stockpilot.usecases.actor import SYSTEM
from stockpilot.usecases.money import currencies
from stockpilot.usecases.worklist_export import export

SHOWN = 8  # terminal columns: the first ones of the list (an export has them all)


def register(app: typer.Typer) -> None:
    """Add ``list`` to the CLI."""
    app.command("list")(list_cmd)


def list_cmd(name: str = typer.Argument(..., help="skus, alerts, overstock, expiring or "
                                        "suggestions"),
             supplier: str | None = typer.Option(None, help="Only this supplier."),
             location: str | None = typer.Option(None, help="Only this location."),
             klass: str | None = typer.Option(None, "--class", help="Only this ABC×XYZ class."),
             status: str | None = typer.Option(None, help="out, stockout, reorder, overstock, "
                                               "ok, slow (alerts: open, acked, resolved, all)."),
             q: str | None = typer.Option(None, "--text", help="Text in the SKU id or name."),
             sort: str = typer.Option("", help="Columns, '-' descending; default urgency."),
             limit: int = typer.Option(20, help="Rows shown (1…500)."),
             offset: int = typer.Option(0, help="Rows skipped."),
             out: Path | None = typer.Option(None, "--export", help="Write the whole filtered "
                                             "list to this .csv or .xlsx file."),
             ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Show a worklist (the dashboard's lists, same filters and order) or export it."""
    w = workspace(ws, db)
    money = currencies(w.settings, w.history)
    query = worklists.ListQuery(supplier, location, klass, status, q, sort, limit, offset)
    artifacts = ArtifactStore(w.history)
    with reading(w.engine) as uow:
        if out is not None:
            spec, rows = worklists.export_rows(name, uow, artifacts, SYSTEM, query, money)
            out.write_bytes(export(rows, spec.columns, out.suffix.lstrip(".").lower(),
                                   spec.title))
            console.print(f"{rows.height} rows → {out}")
            return
        page = worklists.query(name, uow, artifacts, SYSTEM, query, money)
    cols = list(page.spec.columns[:SHOWN])
    table = Table(title=f"{page.spec.title}: {page.total} rows (sort {page.query.sort}; "
                        f"money in {page.currency})")
    for c in cols:
        table.add_column(c)
    for r in page.items:
        table.add_row(*["" if r.get(c) is None else str(r[c]) for c in cols])
    console.print(table)
