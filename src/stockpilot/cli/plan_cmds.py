"""``stockpilot plan`` and ``stockpilot orders …``: suggestions with reasons, approval."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer
from rich.table import Table

from stockpilot.cli.common import WorkspaceOpt, console, spinner, workspace
from stockpilot.ledger.export import write_csv

orders_app = typer.Typer(help="Purchase-order suggestions: show, export, approve.",
                         no_args_is_help=True)


def plan(review: int = typer.Option(7, min=1, max=90, help="Review period R in days."),
         show: int = typer.Option(10, min=0, help="Suggestions to print."),
         ws: Path | None = WorkspaceOpt) -> None:
    """Compute order-up-to levels and today's purchase-order suggestions, each with a reason."""
    from stockpilot.jobs.plan import run_plan

    w = workspace(ws)
    with spinner("planning"):
        result = run_plan(w.engine, w.history, review_days=review)
    due = result.filter(pl.col("order_qty") > 0).sort("order_value", descending=True)
    console.print(f"{result.height} SKU-locations planned; {due.height} orders due, value "
                  f"{due['order_value'].sum():,.2f}")
    for r in due.head(show).iter_rows(named=True):
        console.print(f"[bold]{r['unique_id']}[/] ({r['supplier']}): {r['reason']}",
                      highlight=False)


def _latest(ws: Path | None) -> tuple[object, pl.DataFrame]:
    w = workspace(ws)
    if "latest" not in w.history.parts("plans"):
        from stockpilot.errors import StockpilotError

        raise StockpilotError("no plan yet: run `stockpilot plan` first")
    return w, w.history.read("plans", "latest")


@orders_app.command("show")
def show(ws: Path | None = WorkspaceOpt) -> None:
    """Suggested orders per supplier (from the latest plan)."""
    _, result = _latest(ws)
    due = result.filter(pl.col("order_qty") > 0)
    table = Table("supplier", "lines", "units", "value", title="suggested purchase orders")
    for r in due.group_by("supplier").agg(pl.len(), pl.col("order_qty").sum(),
                                          pl.col("order_value").sum()).sort("supplier").rows():
        table.add_row(r[0], str(r[1]), f"{r[2]:,.0f}", f"{r[3]:,.2f}")
    console.print(table)


@orders_app.command("export")
def export(out: Path = typer.Argument(..., help="CSV to write."),
           ws: Path | None = WorkspaceOpt) -> None:
    """Write every suggestion with its reason to CSV (spreadsheet-safe)."""
    _, result = _latest(ws)
    n = write_csv(out, result.columns, result.rows())
    console.print(f"wrote {n} lines to {out}")


@orders_app.command("approve")
def approve(supplier: list[str] = typer.Option(None, help="Only these suppliers (repeat)."),
            ws: Path | None = WorkspaceOpt) -> None:
    """Turn suggestions into purchase orders (units go on order); once per supplier per day."""
    from stockpilot.jobs.plan import approve as run

    w, result = _latest(ws)
    ids = run(w.engine, result, supplier or None)  # type: ignore[attr-defined]
    console.print(f"purchase orders: {', '.join(map(str, ids)) or 'none due'}")


def register(app: typer.Typer) -> None:
    """Add ``plan`` and ``orders`` to the top-level app."""
    app.command()(plan)
    app.add_typer(orders_app, name="orders")
