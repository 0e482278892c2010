"""``stockpilot init``: create a workspace and its database."""

from __future__ import annotations

from pathlib import Path

import typer

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, spinner, workspace
from stockpilot.config import CONFIG_NAME
from stockpilot.store.migrate import current_revisions


def init(ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Create a workspace: stockpilot.toml, the database (migrated) and the history folder."""
    folder = Path(ws or ".")
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / CONFIG_NAME
    if not cfg.exists():
        lines = ["[stockpilot]", f'db_url = "{db}"' if db else "# db_url = \"postgresql://…\"",
                 'history_dir = "history"', 'default_location = "ONLINE"', ""]
        cfg.write_text("\n".join(lines), encoding="utf-8")
    w = workspace(folder, db)
    w.settings.resolved_history_dir().mkdir(parents=True, exist_ok=True)
    revs = current_revisions(w.engine)
    console.print(f"workspace [bold]{folder.resolve()}[/]: database "
                  f"{w.engine.url.render_as_string(hide_password=True)} at {', '.join(revs)}")


def compact(ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Fold new ledger sales/returns into daily demand and stockout days (history store)."""
    from stockpilot.jobs.compact import compact as run

    w = workspace(ws, db)
    with spinner("compacting the ledger into daily demand"):
        r = run(w.engine, w.history)
    console.print(f"{r.new_movements} new movements, {r.series_recomputed} series recomputed; "
                  f"{r.daily_rows} demand days, {r.stockout_days} stockout days")


def register(app: typer.Typer) -> None:
    """Add the workspace commands to the top-level app."""
    app.command()(init)
    app.command()(compact)
