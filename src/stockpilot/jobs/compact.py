"""Compaction: fold the ledger's sales and returns into daily demand in the history store.

Writes two datasets, source ``ledger``:
  * ``daily/ledger`` — units sold minus units returned per SKU-location and day (UTC);
  * ``stockouts/ledger`` — SKU-location-days on which available stock (on_hand − reserved)
    was at or below zero at some point: their sales are censored demand (GLOSSARY), which
    the forecaster masks or imputes.

It is incremental: a watermark (the last movement id folded) lives beside the data, and only
the SKU-locations touched by newer movements are recomputed from the database and merged in.
A stockout carries over the days without movements until stock comes back, up to the newest
movement's day.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from stockpilot.domain.movements import MovementKind
from stockpilot.store.history import DAILY_SCHEMA, HistoryStore
from stockpilot.store.uow import reading
from stockpilot.usecases.ledger_reads import (
    last_movement_id,
    movements_of,
    newest_movement_at,
    touched_between,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

SOURCE = "ledger"


@dataclass(frozen=True)
class CompactReport:
    """What a compaction run did."""

    new_movements: int
    series_recomputed: int
    daily_rows: int
    stockout_days: int
    watermark: int


def _state_path(history: HistoryStore):  # type: ignore[no-untyped-def]
    return history.root / "_state" / "compaction.json"


def _watermark(history: HistoryStore) -> int:
    path = _state_path(history)
    return int(json.loads(path.read_text())["last_movement_id"]) if path.exists() else 0


def _save_watermark(history: HistoryStore, last: int) -> None:
    path = _state_path(history)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"last_movement_id": last}))
    tmp.replace(path)


def compact(engine: Engine, history: HistoryStore) -> CompactReport:
    """Fold movements newer than the watermark into ``daily/ledger`` and ``stockouts/ledger``."""
    since = _watermark(history)
    with reading(engine) as uow:  # one snapshot: the watermark and the rows it covers agree
        last = last_movement_id(uow.conn)
        touched = _frame(touched_between(uow.conn, since, last),
                         ["sku", "location", "occurred_at"])
        if touched.is_empty():
            return CompactReport(0, 0, _height(history, "daily"),
                                 _height(history, "stockouts"), last)
        keys = touched.select("sku", "location").unique()
        moves = movements_of(uow.conn, keys["sku"].unique().to_list(), last).join(
            keys, on=["sku", "location"], how="semi").sort("id")
        newest = newest_movement_at(uow.conn)
    end = pl.Series([newest]).dt.date()[0]
    _merge(history, "daily", _demand(moves), keys)
    _merge(history, "stockouts", _stockout_days(moves, end), keys)
    _save_watermark(history, last)
    return CompactReport(touched.height, keys.height, _height(history, "daily"),
                         _height(history, "stockouts"), last)


def _frame(rows: Sequence[Any], columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=columns, orient="row") if rows else \
        pl.DataFrame(schema={c: pl.Utf8 for c in columns[:2]} |
                     {c: pl.Datetime("us") for c in columns[2:3]} |
                     {c: pl.Int64 for c in columns[3:]})


def _demand(moves: pl.DataFrame) -> pl.DataFrame:
    """Units sold minus units returned per SKU-location-day."""
    kinds = [int(MovementKind.SALE), int(MovementKind.RETURN)]
    return (moves.filter(pl.col("kind").is_in(kinds))
            .group_by("sku", "location", pl.col("occurred_at").dt.date().alias("date"))
            .agg((-pl.col("on_hand_delta")).sum().cast(pl.Int32).alias("units")))


def _stockout_days(moves: pl.DataFrame, end: date) -> pl.DataFrame:
    """Days on which available stock was at or below zero at some point.

    A day with movements counts when the running balance touched zero that day; a day
    without movements counts when the previous day ended at zero or below.
    """
    running = moves.with_columns(
        (pl.col("on_hand_delta").cum_sum() - pl.col("reserved_delta").cum_sum())
        .over("sku", "location").alias("available"),
        pl.col("occurred_at").dt.date().alias("date"))
    per_day = running.group_by("sku", "location", "date").agg(
        pl.col("available").min().alias("low"), pl.col("available").last().alias("close"))
    spans = per_day.group_by("sku", "location").agg(pl.col("date").min().alias("first"))
    calendar = spans.with_columns(pl.date_ranges("first", pl.lit(end)).alias("date")) \
        .explode("date").select("sku", "location", "date")
    full = (calendar.join(per_day, on=["sku", "location", "date"], how="left")
            .sort("sku", "location", "date")
            .with_columns(pl.col("close").forward_fill().shift(1).over("sku", "location")
                          .alias("opened")))
    out = pl.when(pl.col("low").is_not_null()).then(pl.col("low") <= 0) \
        .otherwise(pl.col("opened") <= 0)
    return full.filter(out.fill_null(False)).select("sku", "location", "date")


def _merge(history: HistoryStore, dataset: str, fresh: pl.DataFrame, keys: pl.DataFrame) -> None:
    """Replace the recomputed SKU-locations of ``dataset/ledger`` with ``fresh``."""
    schema = DAILY_SCHEMA if dataset == "daily" else {
        k: v for k, v in DAILY_SCHEMA.items() if k != "units"}
    fresh = fresh.select([pl.col(c).cast(tp) for c, tp in schema.items()])
    if SOURCE in history.parts(dataset):
        old = history.read(dataset, SOURCE).join(keys, on=["sku", "location"], how="anti")
        fresh = pl.concat([old.select(list(schema)), fresh])
    history.write(dataset, SOURCE, fresh.sort("sku", "location", "date"))


def _height(history: HistoryStore, dataset: str) -> int:
    return history.read(dataset, SOURCE).height if SOURCE in history.parts(dataset) else 0


def censored_days(history: HistoryStore, start: date | None = None) -> pl.DataFrame:
    """The ``stockouts`` days of every source (``sku, location, date``), for the forecaster."""
    lf = history.scan("stockouts")
    if lf is None:
        return pl.DataFrame(schema={"sku": pl.Utf8, "location": pl.Utf8, "date": pl.Date})
    if start is not None:
        lf = lf.filter(pl.col("date") >= start)
    return lf.unique().collect()
