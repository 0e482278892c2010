"""A workspace: its settings, with the database and history store opened on first use.

The CLI, the ASGI worker factory and the scheduler all open a workspace the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from stockpilot.config import Settings, load_settings
from stockpilot.store.db import make_engine
from stockpilot.store.history import HistoryStore


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


def open_workspace(path: Path | None, db: str | None = None) -> Workspace:
    """Load the workspace at ``path`` (default: current folder or $STOCKPILOT_WORKSPACE)."""
    return Workspace(load_settings(path, db_url=db))
