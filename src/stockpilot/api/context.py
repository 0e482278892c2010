"""What every route needs: the database, the history store, the workspace and settings."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from stockpilot.api.ratelimit import TokenBuckets
from stockpilot.config import Settings
from stockpilot.errors import NotFound
from stockpilot.store.history import HistoryStore


@dataclass
class ApiContext:
    """One app's shared state (``app.state.api``)."""

    engine: Engine
    history: HistoryStore
    settings: Settings
    workspace: Path | None = None
    buckets: TokenBuckets = field(init=False)
    _model: tuple[float, Any] | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.buckets = TokenBuckets(self.settings.rate_limit_per_second,
                                    self.settings.rate_limit_burst)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection (on SQLite a deferred BEGIN: it never waits for writers)."""
        with self.engine.connect() as conn:
            yield conn.execution_options(readonly=True)

    def folder(self, name: str) -> Path:
        """A folder of the workspace (404 when the app has no workspace)."""
        if self.workspace is None:
            raise NotFound(f"this server has no workspace, so no {name}")
        return self.workspace / name

    def recommender(self) -> Any:
        """The trained recommender, loaded once and again when its file changes (404: none)."""
        from stockpilot.recommend.service import FILE, load

        folder = self.folder("models") / "recommend"
        path = folder / FILE
        if not path.exists():
            raise NotFound("no trained recommender: run `stockpilot recommend train` first")
        mtime = path.stat().st_mtime
        with self._lock:
            if self._model is None or self._model[0] != mtime:
                self._model = (mtime, load(folder))
            return self._model[1]
