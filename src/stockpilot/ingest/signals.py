"""Import the shop's own signals: calendar events, promotions, price lists (future dates too).

Each file is validated whole (:mod:`stockpilot.ingest.spec`, plus the rules below) and then
merged into the history store, newest file winning per key, in one atomic write:

    signals/events.parquet       date, name, type, location
    signals/promotions.parquet   sku, category, location, start, end, type, discount
    prices/price_list.parquet    sku, location, valid_from, valid_to, price (the M5 prices'
                                 layout, so every price source reads the same way)
    series/catalogue.parquet     sku, category (from the SQL catalogue, for promotions by
                                 category; refreshed when promotions are imported)

:mod:`stockpilot.forecast.signals` turns them into future-known covariates. Extra rules:
a promotion names a SKU or a category (exactly one), ends on or after its start, and its
discount is below 1; a price list's ``valid_to`` is not before its ``valid_from``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import Engine, select

from stockpilot.errors import InvalidRow
from stockpilot.ingest.spec import SPECS, parse, reject_if
from stockpilot.store import schema as t
from stockpilot.store.history import HistoryStore

KINDS = ("events", "promotions", "price_lists")
#: where each kind lives in the history store: (dataset, part)
TARGET = {"events": ("signals", "events"), "promotions": ("signals", "promotions"),
          "price_lists": ("prices", "price_list")}


@dataclass(frozen=True)
class SignalReport:
    """What one signal import did."""

    kind: str
    file: str
    rows: int
    total: int  # rows of that kind held after the merge


def _rule(df: pl.DataFrame, cond: pl.Expr, field: str, reason: str, file: str
          ) -> list[InvalidRow]:
    bad = df.filter(cond.fill_null(False)).select("row")
    return [InvalidRow(file, r, field, reason) for (r,) in bad.head(1000).iter_rows()]


def _checks(kind: str, df: pl.DataFrame, file: str) -> list[InvalidRow]:
    if kind == "promotions":
        one = pl.col("sku").is_null() == pl.col("category").is_null()
        return (_rule(df, one, "sku+category", "give a sku or a category (exactly one)", file)
                + _rule(df, pl.col("end") < pl.col("start"), "end", "before start", file)
                + _rule(df, pl.col("discount") >= 1, "discount",
                        "a fraction below 1 (0.2 = 20 % off)", file))
    if kind == "price_lists":
        return _rule(df, pl.col("valid_to") < pl.col("valid_from"), "valid_to",
                     "before valid_from", file)
    return []


def read_signal(kind: str, path: Path) -> pl.DataFrame:
    """The validated rows of one signal file (``ImportRejected`` listing every bad row)."""
    if kind not in KINDS:
        raise ValueError(f"unknown signal kind {kind!r}; one of {', '.join(KINDS)}")
    spec = SPECS[kind]
    df, problems = parse(path, spec)
    reject_if(str(path), problems + _checks(kind, df, str(path)))
    cols = [c.name for c in spec.columns]
    out = df.select(cols)
    if kind == "events":
        out = out.with_columns(pl.col("type").str.to_lowercase())
    return out


def import_signal(history: HistoryStore, kind: str, path: Path,
                  engine: Engine | None = None) -> SignalReport:
    """Validate ``path`` and merge it into the history store (all or nothing).

    Args:
        history: the workspace's history store.
        kind: ``events``, ``promotions`` or ``price_lists``.
        path: the CSV(.gz) or Parquet file.
        engine: the workspace database; with promotions, the catalogue's SKU categories are
            copied to ``series/catalogue`` so that promotions by category reach their SKUs.
    """
    new = read_signal(kind, path)
    dataset, part = TARGET[kind]
    key = list(SPECS[kind].key)
    merged = new
    if part in history.parts(dataset):
        old = history.read(dataset, part).select(new.columns)
        merged = pl.concat([old.cast(new.schema), new]).unique(key, keep="last",
                                                                 maintain_order=True)
    history.write(dataset, part, merged)
    if kind == "promotions" and engine is not None:
        copy_catalogue(history, engine)
    return SignalReport(kind, str(path), new.height, merged.height)


def copy_catalogue(history: HistoryStore, engine: Engine) -> int:
    """Copy the catalogue's SKU categories to ``series/catalogue``; returns the SKUs copied.

    The forecasting pipeline reads only the history store: promotions by category and the
    per-department models (``LightGBM-dept``) find each SKU's category there.
    """
    with engine.connect() as conn:
        rows = conn.execute(select(t.skus.c.sku, t.skus.c.category)).all()
    cats = pl.DataFrame(rows, schema={"sku": pl.Utf8, "category": pl.Utf8},
                        orient="row").drop_nulls("category")
    history.write("series", "catalogue", cats)
    return cats.height
