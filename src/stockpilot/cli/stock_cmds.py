"""``stockpilot stock …`` and ``stockpilot events apply``: positions and ledger events."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import DbOpt, WorkspaceOpt, bar, console, workspace
from stockpilot.domain.commands import LedgerCommand
from stockpilot.errors import ImportRejected, InvalidRow
from stockpilot.events.schema import BadMessage, parse_strict
from stockpilot.ledger.export import write_csv
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.positions import Position, get_positions
from stockpilot.ledger.service import apply_events
from stockpilot.store.uow import reading, transact

stock_app = typer.Typer(help="Stock positions: show, export, check.", no_args_is_help=True)
events_app = typer.Typer(help="Ledger events: apply a file of events.", no_args_is_help=True)

COLUMNS = ["sku", "location", "on_hand", "reserved", "available", "on_order", "projected",
           "expired"]


@stock_app.command("show")
def show(sku: str | None = typer.Option(None, help="Only this SKU."),
         location: str | None = typer.Option(None, help="Only this location."),
         limit: int = typer.Option(50, min=1, max=10_000, help="Rows to show."),
         ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Show stock positions (on hand, reserved, available, on order, projected)."""
    w = workspace(ws, db)
    with reading(w.engine) as uow:
        rows = get_positions(uow.conn, sku=sku, location=location, limit=limit)
    table = Table(*COLUMNS, title=f"stock positions ({len(rows)} shown)")
    for p in rows:
        table.add_row(*[str(getattr(p, c)) for c in COLUMNS])
    console.print(table)


@stock_app.command("export")
def export(out: Path = typer.Argument(..., help="CSV file to write."),
           ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Export all positions to CSV (cells that would run as spreadsheet formulas are escaped)."""
    w = workspace(ws, db)
    with reading(w.engine) as uow:
        rows: list[Position] = get_positions(uow.conn)
    n = write_csv(out, COLUMNS, ([getattr(p, c) for c in COLUMNS] for p in rows))
    console.print(f"wrote {n} positions to {out}")


@stock_app.command("check")
def check(ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Verify the books: balances equal the replay of movements, nothing oversold."""
    w = workspace(ws, db)
    with reading(w.engine) as uow:
        problems = check_ledger(uow.conn)
    for p in problems:
        console.print(f"[red]✗[/] {p}")
    if problems:
        raise typer.Exit(1)
    console.print("[green]ledger consistent[/]: balances equal the replay of their movements")


@events_app.command("apply")
def apply(file: Path = typer.Argument(..., help="JSON lines, one event per line."),
          batch: int = typer.Option(1000, min=1, max=100_000, help="Events per transaction."),
          ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Apply a file of ledger events (idempotent by event_id; oversells are rejected)."""
    w = workspace(ws, db)
    commands = _read_events(file)
    counts = {"applied": 0, "duplicate": 0, "rejected": 0}
    rejected = []
    with bar() as progress:
        task = progress.add_task("applying events", total=len(commands))
        for start in range(0, len(commands), batch):
            for r in transact(w.engine, apply_events, commands[start:start + batch]):
                counts[r.status] += 1
                if not r.ok:
                    rejected.append(r)
            progress.update(task, advance=min(batch, len(commands) - start))
    console.print(", ".join(f"{v} {k}" for k, v in counts.items()))
    for r in rejected[:20]:
        console.print(f"[red]rejected[/] {r.event_id}: {r.error}")
    if rejected:  # a script must see that some events were not applied
        raise typer.Exit(1)


def _read_events(file: Path) -> list[LedgerCommand]:
    if not file.exists():
        raise ImportRejected(str(file), [InvalidRow(str(file), 0, "*", "file not found")])
    commands, problems = [], []
    with file.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:  # the wire format: same bounds, same naive-time rule (UTC) as the stream
                commands.append(parse_strict(line))
            except BadMessage as exc:
                problems.append(InvalidRow(str(file), n, "*", f"not a ledger event: {exc}"))
    if problems:
        raise ImportRejected(str(file), problems)
    return commands
