"""One artifact store for derived data: the latest forecast and plan, read through one cache.

Forecast and planning runs write Parquet parts to the history store (``forecasts/latest``,
``forecasts/cv``, ``plans/latest``); every reader (API, dashboard, CLI, jobs, alerts) gets
them here, typed, with one error per missing artifact (:class:`NoPlanYet`,
:class:`NoForecastYet`). Each part is loaded once and again only when its file changes
(mtime and size), so a new plan shows up on the next read. Simulations are stored as SQL rows
(``simulation_runs``; see :mod:`stockpilot.usecases.simulations`), not here.

A plan is identified by its run id: the ``run_id`` column when the planning run writes one,
else a digest of the plan file's bytes — so two different plans never share an id and the
same plan read twice always has the same one. Approval is idempotent by it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import polars as pl

from stockpilot.domain.series import with_sku_location
from stockpilot.errors import NotFound
from stockpilot.store.history import HistoryStore

T = TypeVar("T")
Stamp = tuple[tuple[str, float, int], ...]


class NoPlanYet(NotFound):
    """There is no plan: ``stockpilot plan`` has not run in this workspace."""

    title = "No plan yet"

    def __init__(self, message: str = "no plan yet: run `stockpilot plan` first") -> None:
        super().__init__(message)


class NoForecastYet(NotFound):
    """There is no forecast: ``stockpilot forecast`` has not run in this workspace."""

    title = "No forecast yet"

    def __init__(self, message: str = "no forecasts yet: run `stockpilot forecast` first"
                 ) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class PlanRun:
    """One plan: its run id and its rows (with ``unique_id``, ``sku`` and ``location``)."""

    run_id: str
    frame: pl.DataFrame


class Indexed:
    """A frame sorted by ``key`` with each key's row range: ``get(k)`` is a zero-copy slice."""

    def __init__(self, df: pl.DataFrame, key: str) -> None:
        self.df = df.sort(key, maintain_order=True)
        spans = (self.df.with_row_index("_i").group_by(key)
                 .agg(pl.col("_i").min().alias("a"), pl.len().alias("n")))
        self._at = {k: (int(a), int(n)) for k, a, n in spans.iter_rows()}

    def get(self, key: str) -> pl.DataFrame:
        """The rows of one key (empty frame when it has none)."""
        span = self._at.get(key)
        return self.df.slice(*span) if span else self.df.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._at


class HistoryCache:
    """Values built from history parts, built on first use and again when the files change."""

    def __init__(self, history: HistoryStore) -> None:
        self.history = history
        self._lock = threading.RLock()  # a build may read another cached part
        self._held: dict[str, tuple[Stamp, object]] = {}

    @staticmethod
    def _stamp(files: list[Path]) -> Stamp:
        out = []
        for f in files:
            try:
                st = f.stat()
            except FileNotFoundError:
                continue
            out.append((str(f), st.st_mtime, st.st_size))
        return tuple(out)

    def get(self, name: str, files: list[Path], build: Callable[[], T]) -> T | None:
        """What ``build()`` made from ``files`` (None without files), kept until they change."""
        stamp = self._stamp(files)
        held = self._held.get(name)
        if held is not None and held[0] == stamp:
            return held[1]  # type: ignore[return-value]
        with self._lock:  # one build at a time; others wait and then reuse it
            held = self._held.get(name)
            if held is not None and held[0] == stamp:
                return held[1]  # type: ignore[return-value]
            value = build() if stamp else None
            self._held[name] = (stamp, value)
            return value

    def part_files(self, dataset: str, part: str | None = None) -> list[Path]:
        """The files of one part (or of every part) of a dataset."""
        names = [part] if part else self.history.parts(dataset)
        return [self.history.path(dataset, n) for n in names]


class ArtifactStore:
    """Typed reads of the latest forecast and plan, through one :class:`HistoryCache`."""

    def __init__(self, history: HistoryStore) -> None:
        self.history = history
        self.cache = HistoryCache(history)

    def cached(self, name: str, dataset: str, part: str | None, build: Callable[[], T]
               ) -> T | None:
        """A value derived from one part (or all parts) of a dataset, rebuilt on change."""
        return self.cache.get(name, self.cache.part_files(dataset, part), build)

    def plan(self) -> PlanRun:
        """The latest plan (raises :class:`NoPlanYet`)."""
        def build() -> PlanRun:
            path = self.history.path("plans", "latest")
            df = with_sku_location(pl.read_parquet(path))
            run_id = (str(df["run_id"][0]) if "run_id" in df.columns and df.height
                      else "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()[:24])
            return PlanRun(run_id, df)

        got = self.cached("plan", "plans", "latest", build)
        if got is None:
            raise NoPlanYet()
        return got

    def forecast(self) -> pl.DataFrame:
        """``forecasts/latest`` with ``sku`` and ``location`` (raises :class:`NoForecastYet`)."""
        got = self.cached("forecast", "forecasts", "latest",
                          lambda: with_sku_location(self.history.read("forecasts", "latest")))
        if got is None:
            raise NoForecastYet()
        return got

    def forecast_cv(self) -> pl.DataFrame:
        """``forecasts/cv``, the cross-validation errors (raises :class:`NoForecastYet`)."""
        got = self.cached("forecast_cv", "forecasts", "cv",
                          lambda: self.history.read("forecasts", "cv"))
        if got is None:
            raise NoForecastYet()
        return got
