"""``stockpilot demo``: the main job on the bundled sample, then the dashboard."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import Workspace, console, spinner, workspace
from stockpilot.jobs import demo as job
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.positions import get_positions
from stockpilot.store.uow import reading


def demo(ws: Path = typer.Option(Path("demo-workspace"), "--workspace", "-w",
                                 help="Folder for the demo workspace."),
         serve: bool = typer.Option(True, help="Serve the dashboard at the end."),
         port: int = typer.Option(8000, help="Port for the dashboard (127.0.0.1 only)."),
         ) -> None:
    """Import the bundled real sample, forecast, plan, simulate, and serve the dashboard."""
    ws.mkdir(parents=True, exist_ok=True)
    w = workspace(ws)
    results: list[job.StepResult] = []
    with spinner("importing the bundled sample") as progress:
        results += job.import_sample(w.engine, w.history)
        task = progress.tasks[0].id
        results += job.forecast_plan_simulate(
            w.engine, w.history, ws / "report",
            say=lambda m: progress.update(task, description=m))
    with reading(w.engine) as uow:
        problems = check_ledger(uow.conn)
        positions = get_positions(uow.conn)
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
    user, password = job.demo_user(w.engine)
    url = f"http://127.0.0.1:{port}"
    console.print(f"[bold]dashboard: {url}[/]  sign in as [bold]{user}[/] with password "
                  f"[bold]{password}[/] (role planner; `stockpilot users add` for more)")
    if serve:
        _serve(w, port)


def _serve(w: Workspace, port: int) -> None:
    """Serve the dashboard and the API on loopback until interrupted."""
    import uvicorn

    from stockpilot.api.app import create_app

    app = create_app(w.engine, w.history, w.settings.workspace, w.settings)
    console.print("serving on loopback only (Ctrl-C to stop)")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the top-level app."""
    app.command()(demo)
