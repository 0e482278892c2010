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
         serve: bool = typer.Option(True, help="Serve the report at the end."),
         port: int = typer.Option(8000, help="Port for the report (127.0.0.1 only)."),
         ) -> None:
    """Import the bundled real sample, forecast, plan, simulate, and serve the report."""
    ws.mkdir(parents=True, exist_ok=True)
    w = workspace(ws)
    results: list[job.StepResult] = []
    with spinner("importing the bundled sample") as progress:
        results += job.import_sample(w.engine, w.history)
        task = progress.tasks[0].id
        results += job.forecast_plan_simulate(
            w.engine, w.history, ws / "report",
            say=lambda m: progress.update(task, description=m))
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
    console.print(f"look at: stockpilot stock show -w {ws} | stockpilot orders show -w {ws} | "
                  f"{ws / 'report' / 'index.html'}")
    if serve:
        _serve(ws / "report", port)


def _serve(folder: Path, port: int) -> None:
    """Serve the report folder on loopback until interrupted (read-only static files)."""
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        console.print(f"[bold]serving the demo report on http://127.0.0.1:{port}/[/] "
                      "(Ctrl-C to stop; no login needed: loopback only, read-only)")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            console.print("stopped")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the top-level app."""
    app.command()(demo)
