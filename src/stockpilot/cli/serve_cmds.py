"""``stockpilot serve`` (the REST API) and ``stockpilot keys create|list|revoke``."""

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


@keys_app.command("list")
def list_(ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """List API keys: id, name, prefix, role, locations, created, revoked (never a secret)."""
    from rich.table import Table

    from stockpilot.store.uow import reading
    from stockpilot.usecases import keys
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.paging import PageRequest

    rows: list[dict[str, object]] = []
    with reading(workspace(ws, db).engine) as uow:
        while True:  # every page: the CLI shows them all
            page, total = keys.list_keys(uow, SYSTEM, PageRequest(500, len(rows), "id"))
            rows += page
            if not page or len(rows) >= total:
                break
    table = Table("id", "name", "prefix", "role", "locations", "created", "revoked")
    for r in rows:
        locs = r["locations"]
        table.add_row(str(r["id"]), str(r["name"]), str(r["prefix"]), str(r["role"]),
                      ", ".join(locs) if isinstance(locs, list) and locs else "all",
                      str(r["created_at"])[:19], str(r["revoked_at"] or "")[:19])
    console.print(table)


@keys_app.command("revoke")
def revoke(key_id: int = typer.Argument(..., help="Id of the key (see `keys list`)."),
           ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Revoke an API key (running servers stop accepting it within their key-cache time)."""
    from stockpilot.store.uow import writing
    from stockpilot.usecases import keys
    from stockpilot.usecases.actor import SYSTEM

    with writing(workspace(ws, db).engine) as uow:
        row = keys.revoke_key(uow, SYSTEM, key_id)
    console.print(f"key {key_id} ({row['name']}) revoked")


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
