"""What every command needs: the workspace settings, the engine and the history store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from stockpilot.store.workspace import Workspace, open_workspace

__all__ = ["DbOpt", "Workspace", "WorkspaceOpt", "bar", "console", "spinner", "workspace"]

console = Console()

WorkspaceOpt = typer.Option(None, "--workspace", "-w", envvar="STOCKPILOT_WORKSPACE",
                            help="Workspace folder (holds stockpilot.toml).")
DbOpt = typer.Option(None, "--db", envvar="STOCKPILOT_DB_URL",
                     help="Database URL (default: SQLite in the workspace).")


def workspace(path: Path | None, db: str | None = None) -> Workspace:
    """Load the workspace at ``path`` (default: current folder or $STOCKPILOT_WORKSPACE)."""
    return open_workspace(path, db)


@contextmanager
def spinner(text: str) -> Iterator[Progress]:
    """A spinner with elapsed time for work of unknown length; ``update`` changes the text."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        progress.add_task(text, total=None)
        yield progress


def bar() -> Progress:
    """A progress bar for work with a known total (use as a context manager, add a task)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn(
        "{task.completed}/{task.total}"), TimeElapsedColumn(), console=console)
