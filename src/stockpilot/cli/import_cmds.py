"""``stockpilot import …``: generic files, M5 and Online Retail."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, spinner, workspace
from stockpilot.ingest import files
from stockpilot.ingest.spec import SPECS, describe

app = typer.Typer(help="Import catalogue, stock, sales, purchase orders and public datasets.",
                  no_args_is_help=True)

FileArg = typer.Argument(..., exists=False, help="CSV, CSV.gz or Parquet file.")


def _show(report: files.ImportReport) -> None:
    extra = f", {report.skipped} skipped" if report.skipped else ""
    note = f" ({report.note})" if report.note else ""
    console.print(f"[green]imported[/] {report.kind} from {report.file}: {report.rows} rows, "
                  f"{report.written} written{extra}{note}")


def _catalogue_command(kind: str) -> None:
    def command(file: Path = FileArg, ws: Path | None = WorkspaceOpt,
                db: str | None = DbOpt) -> None:
        w = workspace(ws, db)
        with spinner(f"importing {kind} from {file}"):
            report = files.import_catalogue(w.engine, kind, file)
        _show(report)

    command.__doc__ = f"Import {SPECS[kind].doc} (see `stockpilot import spec {kind}`)."
    app.command(kind.replace("_", "-"))(command)


for _kind in ("skus", "locations", "suppliers", "supplier_items"):
    _catalogue_command(_kind)


@app.command()
def stock(file: Path = FileArg, counted_at: datetime | None = typer.Option(
        None, help="When the snapshot was counted (default: now)."),
          ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Import a stock snapshot; each row is a count (variance recorded), idempotent per file."""
    w = workspace(ws, db)
    with spinner(f"importing stock from {file}"):
        report = files.import_stock(w.engine, file, counted_at=counted_at)
    _show(report)


@app.command()
def sales(file: Path = FileArg, ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Import historic sales lines (order lines + daily demand history; stock is untouched)."""
    w = workspace(ws, db)
    with spinner(f"importing sales from {file}"):
        report = files.import_sales(w.engine, file, w.history)
    _show(report)


@app.command("purchase-orders")
def purchase_orders(file: Path = FileArg, ws: Path | None = WorkspaceOpt,
                    db: str | None = DbOpt) -> None:
    """Import open purchase orders (one per reference); they count as on order."""
    w = workspace(ws, db)
    with spinner(f"importing purchase orders from {file}"):
        report = files.import_purchase_orders(w.engine, file)
    _show(report)


@app.command("m5")
def m5(directory: Path = typer.Argument(..., help="Folder laid out like shared/data/m5."),
       ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Import M5: catalogue (items × stores), prices, calendar, daily and monthly history."""
    from stockpilot.ingest.m5_import import import_m5

    w = workspace(ws, db)
    with spinner(f"importing M5 from {directory}") as progress:
        task = progress.tasks[0].id
        report = import_m5(w.engine, directory, w.history,
                           progress=lambda msg: progress.update(task, description=msg))
    table = Table("what", "count", title="M5 import")
    for name, value in vars(report).items():
        if isinstance(value, int):
            table.add_row(name.replace("_", " "), f"{value:,}")
    console.print(table)


@app.command("online-retail")
def online_retail(file: Path = typer.Argument(..., help="online_retail.csv[.gz]"),
                  location: str = typer.Option("ONLINE", help="Location of the web shop."),
                  ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Import UCI Online Retail: SKUs, customers, order lines, daily demand per StockCode."""
    from stockpilot.ingest.online_retail_import import import_online_retail

    w = workspace(ws, db)
    with spinner(f"importing Online Retail from {file}"):
        report = import_online_retail(w.engine, file, w.history, location)
    table = Table("what", "count", title="Online Retail import")
    for name, value in vars(report).items():
        table.add_row(name.replace("_", " "), f"{value:,}")
    console.print(table)


def _signal_command(kind: str) -> None:
    def command(file: Path = FileArg, ws: Path | None = WorkspaceOpt,
                db: str | None = DbOpt) -> None:
        from stockpilot.ingest.signals import import_signal

        w = workspace(ws, db)
        with spinner(f"importing {kind.replace('_', ' ')} from {file}"):
            report = import_signal(w.history, kind, file, w.engine)
        console.print(f"[green]imported[/] {kind.replace('_', ' ')} from {report.file}: "
                      f"{report.rows} rows ({report.total} held)")

    command.__doc__ = (f"Import {SPECS[kind].doc}: future-known covariates for `stockpilot "
                       f"forecast` (see `stockpilot import spec {kind}`).")
    app.command(kind.replace("_", "-"))(command)


for _kind in ("events", "promotions", "price_lists"):
    _signal_command(_kind)


@app.command()
def spec(kind: str = typer.Argument(None, help="One of: " + ", ".join(SPECS))) -> None:
    """Print the column spec of the import files (all, or one kind)."""
    for k in [kind] if kind else list(SPECS):
        if k not in SPECS:
            raise typer.BadParameter(f"unknown kind {k!r}; one of {', '.join(SPECS)}")
        console.print(describe(k), markup=False)
        console.print()
