"""What every route needs: the database, the history store, the workspace and settings."""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stockpilot.api.auth import Principal, _digest
from stockpilot.api.ratelimit import TokenBuckets
from stockpilot.config import Settings
from stockpilot.errors import NotFound
from stockpilot.store.artifacts import ArtifactStore
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import UnitOfWork, reading
from stockpilot.usecases.paging import CountCache

if TYPE_CHECKING:
    from stockpilot.store.db import Engine


class KeyCache:
    """Keys looked up in the last ``ttl_s`` seconds (0: no cache), by their secret's hash.

    A key revoked through this server leaves the cache at once (:meth:`clear`); revoked
    elsewhere (the CLI, another server process), it works for at most ``ttl_s`` more.
    """

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._found: dict[str, tuple[float, Principal]] = {}

    def get(self, secret: str) -> Principal | None:
        """The cached principal of ``secret``, if fresh."""
        hit = self._found.get(_digest(secret)) if self.ttl_s > 0 else None
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def put(self, secret: str, who: Principal | None) -> None:
        """Remember a found key (unknown ones are not cached: no growth from bad guesses)."""
        if who is not None and self.ttl_s > 0:
            if len(self._found) > 10_000:
                self._found.clear()
            self._found[_digest(secret)] = (time.monotonic() + self.ttl_s, who)

    def clear(self) -> None:
        """Forget every key (after a revocation)."""
        self._found.clear()


@dataclass
class ApiContext:
    """One app's shared state (``app.state.api``)."""

    engine: Engine
    history: HistoryStore
    settings: Settings
    workspace: Path | None = None
    buckets: TokenBuckets = field(init=False)
    failures: TokenBuckets = field(init=False)  # failed sign-ins and unknown keys, per IP
    keys: KeyCache = field(init=False)
    counts: CountCache = field(init=False)
    artifacts: ArtifactStore = field(init=False)
    _models: dict[str, tuple[float, Any]] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.buckets = TokenBuckets(self.settings.rate_limit_per_second,
                                    self.settings.rate_limit_burst)
        limits = self.settings.limits
        self.failures = TokenBuckets(limits.failed_auth_per_minute / 60.0,
                                     limits.failed_auth_burst)
        self.keys = KeyCache(self.settings.api_key_cache_seconds)
        self.counts = CountCache()
        self.artifacts = ArtifactStore(self.history)

    def uow(self) -> AbstractContextManager[UnitOfWork]:
        """A read-only unit of work for the use cases."""
        return reading(self.engine)

    def folder(self, name: str) -> Path:
        """A folder of the workspace (404 when the app has no workspace)."""
        if self.workspace is None:
            raise NotFound(f"this server has no workspace, so no {name}")
        return self.workspace / name

    def recommender(self, model: str | None = None) -> Any:
        """A trained recommender (default: the settings' model), reloaded when its file changes.

        404 when that model is not trained in the workspace.
        """
        from stockpilot.recommend.service import load, path_of

        name = model or self.settings.recommend.model
        folder = self.folder("models") / "recommend"
        path = path_of(folder, name)
        if not path.exists():
            raise NotFound(f"no trained recommender {name!r}: run `stockpilot recommend train "
                           f"--model {name}` first")
        mtime = path.stat().st_mtime
        with self._lock:
            hit = self._models.get(name)
            if hit is None or hit[0] != mtime:
                hit = self._models[name] = (mtime, load(folder, name))
            return hit[1]
