"""``stockpilot lead-times``: each supplier's stated lead time beside the measured one."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import WorkspaceOpt, console, workspace


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def lead_times(supplier: str | None = typer.Option(None, help="Only this supplier."),
               ws: Path | None = WorkspaceOpt) -> None:
    """Stated vs measured lead time (mean, P90) per supplier, and what the plan uses."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases.leadtimes import lead_time_report

    with reading(workspace(ws).engine) as uow:
        df = lead_time_report(uow, supplier)
    table = Table("supplier", "stated d", "receipts", "measured mean d", "measured P90 d",
                  "planned d", "source", title="Supplier lead times")
    for r in df.iter_rows(named=True):
        table.add_row(r["supplier"], _days(r["stated_days"]), str(r["n_receipts"]),
                      _days(r["measured_mean_days"]), _days(r["measured_p90_days"]),
                      _days(r["planned_mean_days"]),
                      "learned, blended with stated" if r["used"] else "stated (too few receipts)")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``lead-times`` to the main command."""
    app.command("lead-times")(lead_times)
