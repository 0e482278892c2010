"""What every command needs: the workspace settings, the engine and the history store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from stockpilot.config import Settings, load_settings
from stockpilot.store.db import make_engine
from stockpilot.store.history import HistoryStore

console = Console()

WorkspaceOpt = typer.Option(None, "--workspace", "-w", envvar="STOCKPILOT_WORKSPACE",
                            help="Workspace folder (holds stockpilot.toml).")
DbOpt = typer.Option(None, "--db", envvar="STOCKPILOT_DB_URL",
                     help="Database URL (default: SQLite in the workspace).")


@dataclass
class Workspace:
    """Settings plus lazily created engine and history store."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        """The workspace database (migrated on first use)."""
        from stockpilot.store.migrate import upgrade

        eng = make_engine(self.settings.resolved_db_url(),
                          synchronous=self.settings.sqlite_synchronous)
        upgrade(eng)
        return eng

    @cached_property
    def history(self) -> HistoryStore:
        """The Parquet history store."""
        return HistoryStore(self.settings.resolved_history_dir())


def workspace(path: Path | None, db: str | None = None) -> Workspace:
    """Load the workspace at ``path`` (default: current folder or $STOCKPILOT_WORKSPACE)."""
    return Workspace(load_settings(path, db_url=db))


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
