"""The id of one SKU-location series: ``SeriesKey``, written ``sku@location``.

Forecast and plan frames carry it as ``unique_id`` (Nixtla's long format). Build and split it
here, never by hand, so the separator lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

SEP = "@"


@dataclass(frozen=True, order=True)
class SeriesKey:
    """One SKU at one location; ``str(key)`` is the ``unique_id`` of its series."""

    sku: str
    location: str

    def __str__(self) -> str:
        return f"{self.sku}{SEP}{self.location}"

    @classmethod
    def parse(cls, unique_id: str) -> SeriesKey:
        """The key of a ``sku@location`` id (the SKU may itself contain no ``@``).

        Raises:
            ValueError: when ``unique_id`` has no ``@`` or an empty side.
        """
        sku, sep, location = unique_id.partition(SEP)
        if not sep or not sku or not location:
            raise ValueError(f"not a series id (sku{SEP}location): {unique_id!r}")
        return cls(sku, location)


def unique_id(sku: str | pl.Expr = "sku", location: str | pl.Expr = "location") -> pl.Expr:
    """``unique_id`` built from the ``sku`` and ``location`` columns (names or expressions)."""
    parts = [pl.col(c) if isinstance(c, str) else c for c in (sku, location)]
    return pl.concat_str(parts, separator=SEP).alias("unique_id")


def split_unique_id(column: str = "unique_id") -> list[pl.Expr]:
    """``sku`` and ``location`` columns split from ``unique_id`` (at its first ``@``)."""
    parts = pl.col(column).str.split_exact(SEP, 1)
    return [parts.struct.field("field_0").alias("sku"),
            parts.struct.field("field_1").alias("location")]


def with_sku_location(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with ``sku`` and ``location`` columns (added from ``unique_id`` if missing)."""
    if {"sku", "location"} <= set(df.columns):
        return df
    return df.with_columns(split_unique_id())
