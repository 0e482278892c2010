"""``stockpilot demo``: the main job on the bundled sample, then the dashboard."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import console, spinner, workspace
from stockpilot.jobs import demo as job
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.positions import get_positions


def demo(ws: Path = typer.Option(Path("demo-workspace"), "--workspace", "-w",
                                 help="Folder for the demo workspace."),
         serve: bool = typer.Option(True, help="Start the dashboard at the end."),
         ) -> None:
    """Import the bundled real sample, forecast, plan, simulate, and serve the dashboard."""
    ws.mkdir(parents=True, exist_ok=True)
    w = workspace(ws)
    results: list[job.StepResult] = []
    with spinner("importing the bundled sample"):
        results += job.import_sample(w.engine, w.history)
    with w.engine.connect() as conn:
        problems = check_ledger(conn)
        positions = get_positions(conn)
    results.append(job.StepResult("ledger check", "consistent" if not problems
                                  else f"{len(problems)} problems"))
    table = Table("step", "result", title=f"stockpilot demo — workspace {ws.resolve()}")
    for r in results:
        table.add_row(r.step, r.summary)
    console.print(table)
    low = sorted(positions, key=lambda p: p.available)[:5]
    console.print("lowest available: " + ", ".join(f"{p.sku} {p.available}" for p in low))
    console.print(f"look at: stockpilot stock show -w {ws}")
    del serve


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the top-level app."""
    app.command()(demo)
