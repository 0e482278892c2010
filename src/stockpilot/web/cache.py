"""In-memory, per-key slices of the history store's Parquet parts, for fast page rendering.

A SKU page needs one SKU's rows out of files holding every SKU (``forecasts/latest`` has
horizon × series rows). Reading and filtering Parquet per request costs tens of milliseconds;
instead each part is loaded once, sorted by its key and indexed (key → row range), so a page
takes an O(1) zero-copy slice. A part is reloaded when its files change (mtime and size), so a
new forecast or plan shows up on the next request. Memory is the price: about 40 bytes per
forecast row kept (the columns the pages draw, quantiles as Float32).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import polars as pl

from stockpilot.store.history import HistoryStore


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
    """Loads history parts on first use and again when their files change."""

    def __init__(self, history: HistoryStore) -> None:
        self.history = history
        self._lock = threading.Lock()
        self._held: dict[str, tuple[tuple[tuple[str, float, int], ...], object]] = {}

    def _stamp(self, files: list[Path]) -> tuple[tuple[str, float, int], ...]:
        out = []
        for f in files:
            try:
                st = f.stat()
            except FileNotFoundError:
                continue
            out.append((str(f), st.st_mtime, st.st_size))
        return tuple(out)

    def get(self, name: str, files: list[Path], build: Callable[[], object]) -> object:
        """The value ``build()`` made from ``files``, rebuilt when they change."""
        stamp = self._stamp(files)
        held = self._held.get(name)
        if held is not None and held[0] == stamp:
            return held[1]
        with self._lock:  # one build at a time; others wait and then reuse it
            held = self._held.get(name)
            if held is not None and held[0] == stamp:
                return held[1]
            value = build() if stamp else None
            self._held[name] = (stamp, value)
            return value

    def part_files(self, dataset: str, part: str | None = None) -> list[Path]:
        """The files of one part (or of every part) of a dataset."""
        names = [part] if part else self.history.parts(dataset)
        return [self.history.path(dataset, n) for n in names]
