"""``stockpilot pipeline …`` and ``stockpilot scheduler``: run, list, export; run on schedule."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, workspace

app = typer.Typer(help="The nightly pipeline: import, compact, forecast, plan, alerts, report, "
                  "notify — as named, recorded, resumable steps.", no_args_is_help=True)
export_app = typer.Typer(help="Export the pipeline to another orchestrator.",
                         no_args_is_help=True)
app.add_typer(export_app, name="export")


@app.command("run")
def run(steps: str | None = typer.Option(None, help="Comma-separated steps (default all)."),
        start: str | None = typer.Option(None, "--from", help="Start at this step."),
        resume: int | None = typer.Option(None, help="Re-run the steps of run ID that did "
                                          "not succeed (not the ones before them)."),
        ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Run the pipeline now; exits 1 when a step fails (the run records which and why)."""
    from stockpilot.jobs import pipeline
    from stockpilot.jobs.pipeline_steps import Context

    w = workspace(ws, db)
    ctx = Context(w.engine, w.history, w.settings)
    names = [s.strip() for s in steps.split(",") if s.strip()] if steps else None

    def say(step: str, what: str) -> None:
        console.print(f"[bold]{step:9}[/] {what}", highlight=False)

    if resume is not None:
        if names or start:
            raise typer.BadParameter("--resume takes no --steps or --from")
        run_id = pipeline.resume(ctx, resume, progress=say)
    else:
        run_id = pipeline.run_pipeline(ctx, names, start, progress=say)
    _finish(w, run_id)


def _finish(w: object, run_id: int) -> None:
    from stockpilot.store.uow import reading
    from stockpilot.usecases import pipeline_runs
    from stockpilot.usecases.actor import SYSTEM

    with reading(w.engine) as uow:  # type: ignore[attr-defined]
        got = pipeline_runs.get_run(uow, SYSTEM, run_id)
    console.print(f"pipeline run {run_id}: {got['status']}"
                  + (f" — {got['error']}" if got["error"] else ""), highlight=False)
    if got["status"] != "succeeded":
        console.print(f"retry the failed step with `stockpilot pipeline run --resume {run_id}`")
        raise typer.Exit(1)


@app.command("runs")
def runs(limit: int = typer.Option(20, min=1, max=500),
         ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Recent pipeline runs, each step's status, rows and time."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases import pipeline_runs
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.paging import PageRequest

    with reading(workspace(ws, db).engine) as uow:
        rows, total = pipeline_runs.list_runs(uow, SYSTEM, PageRequest(limit, 0, "-id"))
    table = Table("run", "status", "started", "steps (status rows seconds)", "error",
                  title=f"pipeline runs ({total})")
    for r in rows:
        table.add_row(str(r["id"]), r["status"], str(r["started_at"])[:19],
                      "\n".join(_step_line(s) for s in r["steps"]), r["error"] or "")
    console.print(table)


def _step_line(s: dict[str, object]) -> str:
    took = ""
    if s["started_at"] and s["finished_at"]:
        took = f" {(s['finished_at'] - s['started_at']).total_seconds():.1f}s"  # type: ignore[operator]
    from rich.markup import escape

    run = s["forecast_run_id"] or s["plan_run_id"]
    tries = s["attempts"]
    return escape(f"{s['step']}: {s['status']}" + ("" if s["rows"] is None else f" {s['rows']}")
                  + took + (f" ({tries} attempts)" if isinstance(tries, int) and tries > 1
                            else "") + (f" [{run}]" if run else ""))


@export_app.command("airflow")
def export_airflow(out: Path = typer.Option(..., help="The DAG file to write."),
                   schedule: str | None = typer.Option(None, help="Cron line (default: "
                                                       "[schedule] pipeline, else 0 2 * * *)."),
                   dag_id: str = typer.Option("stockpilot"),
                   ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Write an Airflow DAG: one BashOperator per step, in pipeline order."""
    from stockpilot.jobs.airflow_export import airflow_dag

    w = workspace(ws, db)
    text = airflow_dag(str(w.settings.workspace.resolve()), dag_id=dag_id, db_url=db or "",
                       schedule=schedule or w.settings.schedule.get("pipeline", "0 2 * * *"))
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}")


def scheduler(ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Run the [schedule] jobs of stockpilot.toml until interrupted (one run per job at once)."""
    import time

    from stockpilot.jobs.scheduler import build

    w = workspace(ws, db)
    if not w.settings.schedule:
        raise typer.BadParameter("no [schedule] in stockpilot.toml (e.g. pipeline = "
                                 "\"0 2 * * *\")")
    sched = build(w.engine, w.history, w.settings)
    sched.start()
    for job in sched.get_jobs():
        console.print(f"{job.id}: next run {job.next_run_time:%Y-%m-%d %H:%M %Z}")
    try:
        while True:
            time.sleep(3600)
    finally:
        sched.shutdown(wait=True)


def register(main: typer.Typer) -> None:
    """Add ``pipeline`` and ``scheduler`` to the top-level app."""
    main.add_typer(app, name="pipeline")
    main.command()(scheduler)
