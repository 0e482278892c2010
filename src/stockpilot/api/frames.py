"""Lists over Parquet datasets (forecasts, plans): filter, scope, sort and page a frame."""

from __future__ import annotations

from typing import Any

import polars as pl

from stockpilot.api.auth import Principal
from stockpilot.api.deps import Paging
from stockpilot.api.problems import InvalidQuery
from stockpilot.errors import NotFound
from stockpilot.store.history import HistoryStore


def latest(history: HistoryStore, dataset: str, hint: str) -> pl.DataFrame:
    """``<dataset>/latest`` with ``sku`` and ``location`` columns (404 when absent)."""
    if "latest" not in history.parts(dataset):
        raise NotFound(f"no {dataset} yet: run `stockpilot {hint}` first")
    df = history.read(dataset, "latest")
    if "sku" not in df.columns:
        parts = pl.col("unique_id").str.split_exact("@", 1)
        df = df.with_columns(parts.struct.field("field_0").alias("sku"),
                             parts.struct.field("field_1").alias("location"))
    return df


def narrow(df: pl.DataFrame, who: Principal, **equals: Any) -> pl.DataFrame:
    """Rows at the key's locations whose columns equal the given (non-None) values."""
    if who.locations is not None:
        df = df.filter(pl.col("location").is_in(sorted(who.locations)))
    for col, value in equals.items():
        if value is not None:
            df = df.filter(pl.col(col) == value)
    return df


def page(df: pl.DataFrame, paging: Paging, sort: str, allowed: list[str]
         ) -> tuple[list[dict[str, Any]], int]:
    """Sort by whitelisted columns (422 otherwise) and cut one page."""
    cols, desc = [], []
    for part in (p.strip() for p in sort.split(",")):
        name = part.removeprefix("-")
        if name not in allowed:
            raise InvalidQuery(f"sort: unknown field {name!r}; sortable: {', '.join(allowed)}")
        cols.append(name)
        desc.append(part.startswith("-"))
    out = df.sort(cols, descending=desc, nulls_last=True) if df.height else df
    return out.slice(paging.offset, paging.limit).to_dicts(), df.height
