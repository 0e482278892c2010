"""The columnar history store: daily demand, monthly totals, prices, calendar, forecasts.

Parquet files read and written with polars under one root folder (a workspace's
``history/``). Each dataset is split by *source* (``m5``, ``online_retail``, ``ledger``, …) so
an import replaces its own source atomically without touching the others:

    <root>/daily/<source>.parquet      sku, location, date, units (Int32; returns net out)
    <root>/monthly/<source>.parquet    sku, location, month, n_days, units, …
    <root>/prices/<source>.parquet     sku, location, valid_from, valid_to, price
    <root>/calendar/<source>.parquet   date plus features (events, SNAP, …)
    <root>/<name>/<part>.parquet       anything else (forecasts, backtests, …)

Writes go to a temporary file that is renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import polars as pl

from stockpilot.domain.series import SeriesKey

DAILY_SCHEMA = {"sku": pl.Utf8, "location": pl.Utf8, "date": pl.Date, "units": pl.Int32}


def series_id(sku: str, location: str) -> str:
    """The id of one SKU-location time series (``unique_id`` in forecast frames)."""
    return str(SeriesKey(sku, location))


class HistoryStore:
    """Parquet datasets under ``root``; see the module docstring for the layout."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # --- generic -------------------------------------------------------------------------
    def path(self, dataset: str, part: str) -> Path:
        """Where one part of a dataset lives."""
        return self.root / dataset / f"{part}.parquet"

    def write(self, dataset: str, part: str, df: pl.DataFrame) -> Path:
        """Replace one part of a dataset atomically (temp file + rename)."""
        target = self.path(dataset, part)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        os.close(fd)
        try:
            df.write_parquet(tmp, compression="zstd", statistics=True)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return target

    def parts(self, dataset: str) -> list[str]:
        """Names of the parts a dataset has (its sources)."""
        folder = self.root / dataset
        return sorted(p.stem for p in folder.glob("*.parquet")) if folder.exists() else []

    def scan(self, dataset: str, parts: list[str] | None = None) -> pl.LazyFrame | None:
        """Lazy union of a dataset's parts (all, or those named); None when there are none."""
        names = parts if parts is not None else self.parts(dataset)
        files = [self.path(dataset, n) for n in names if self.path(dataset, n).exists()]
        if not files:
            return None
        return pl.concat([pl.scan_parquet(f) for f in files], how="diagonal_relaxed")

    def read(self, dataset: str, part: str) -> pl.DataFrame:
        """One part, eagerly."""
        return pl.read_parquet(self.path(dataset, part))

    # --- daily demand ----------------------------------------------------------------------
    def write_daily(self, source: str, df: pl.DataFrame) -> Path:
        """Replace a source's daily demand; columns ``sku, location, date, units``."""
        out = df.select([pl.col(c).cast(t) for c, t in DAILY_SCHEMA.items()])
        return self.write("daily", source, out.sort("sku", "location", "date"))

    def daily(
        self,
        *,
        sources: list[str] | None = None,
        skus: list[str] | None = None,
        locations: list[str] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> pl.DataFrame:
        """Daily demand summed over sources, filtered; empty frame when there is none."""
        lf = self.scan("daily", sources)
        if lf is None:
            return pl.DataFrame(schema=DAILY_SCHEMA)
        if skus is not None:
            lf = lf.filter(pl.col("sku").is_in(skus))
        if locations is not None:
            lf = lf.filter(pl.col("location").is_in(locations))
        if start is not None:
            lf = lf.filter(pl.col("date") >= start)
        if end is not None:
            lf = lf.filter(pl.col("date") <= end)
        return (
            lf.group_by("sku", "location", "date")
            .agg(pl.col("units").sum().cast(pl.Int32))
            .sort("sku", "location", "date")
            .collect()
        )
