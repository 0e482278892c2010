"""``stockpilot serve`` (the REST API) and ``stockpilot keys create``."""

from __future__ import annotations

from pathlib import Path

import typer

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, workspace

keys_app = typer.Typer(help="API keys (shown once, stored hashed).", no_args_is_help=True)


@keys_app.command("create")
def create(name: str = typer.Argument(..., help="Who or what uses the key."),
           role: str = typer.Option("viewer", help="viewer | planner | operator | admin"),
           location: list[str] = typer.Option(None, help="Limit to these locations (repeat)."),
           ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Create an API key and print it once."""
    from stockpilot.api.auth import create_key

    secret = create_key(workspace(ws, db).engine, name, role, location or None)
    console.print(f"API key for {name} ({role}): [bold]{secret}[/]  — store it now, it is not "
                  "shown again")


def serve(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8000),
          access_log: bool = typer.Option(True, help="Log every request (off for load tests)."),
          workers: int = typer.Option(1, min=1, max=64, help="Server processes (rate limits "
                                      "and the key cache are per process)."),
          scheduler: bool | None = typer.Option(None, help="Also run the [schedule] jobs in "
                                                "this process (default: [pipeline] "
                                                "run_scheduler_in_serve)."),
          ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Serve the dashboard (/) and the REST API (/docs); refuses a public host by default secret."""
    import uvicorn

    from stockpilot.api.app import create_app

    w = workspace(ws, db)
    w.settings.check_serving(host)
    if w.settings.pipeline.run_scheduler_in_serve if scheduler is None else scheduler:
        from stockpilot.jobs.scheduler import build

        build(w.engine, w.history, w.settings).start()  # a daemon thread beside the server
    if workers > 1:  # each worker builds its app from the environment
        import os

        os.environ["STOCKPILOT_WORKSPACE"] = str(w.settings.workspace.resolve())
        os.environ["STOCKPILOT_DB_URL"] = w.settings.resolved_db_url()
        w.engine.dispose()  # migrated; the workers open their own connections
        uvicorn.run("stockpilot.api.asgi:app_from_env", factory=True, workers=workers,
                    host=host, port=port, log_level="info", access_log=access_log)
        return
    app = create_app(w.engine, w.history, w.settings.workspace, w.settings)
    console.print(f"dashboard: http://{host}:{port}/  ·  API docs: http://{host}:{port}/docs")
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=access_log)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``keys`` to the top-level app."""
    app.command()(serve)
    app.add_typer(keys_app, name="keys")
