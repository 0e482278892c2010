"""The planning run's database inputs: supplier terms, positions, shelf lives, lots, prices.

Read on the caller's unit of work (``with reading(engine) as uow``) and returned as polars
frames keyed by ``unique_id`` (:class:`stockpilot.domain.series.SeriesKey`), ready for
:func:`stockpilot.planning.pipeline.build_plan`. The planning job (:mod:`stockpilot.jobs.plan`)
and the transfer job call these instead of querying tables themselves (issue 12).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Connection, Executable, select

from stockpilot.domain.series import split_unique_id, unique_id
from stockpilot.store import schema as t

TERMS_SCHEMA = {"sku": pl.Utf8, "supplier": pl.Utf8, "lead_time_days": pl.Int64,
                "moq": pl.Int64, "pack_size": pl.Int64, "unit_cost": pl.Float64,
                "order_cost": pl.Float64}


def _frame(conn: Connection, query: Executable, schema: Mapping[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(conn.execute(query).all(), schema=schema, orient="row")


def load_terms(conn: Connection) -> pl.DataFrame:
    """Primary supplier terms per SKU: ``sku, supplier, lead_time_days, moq, pack_size, …``."""
    si = t.supplier_items.c
    q = select(si.sku, si.supplier, si.lead_time_days, si.moq, si.pack_size, si.unit_cost,
               si.order_cost).where(si.is_primary.is_(True))
    return _frame(conn, q, TERMS_SCHEMA).unique("sku", keep="first")


def load_positions(conn: Connection, today: date | None = None) -> pl.DataFrame:
    """``unique_id, on_hand, on_order, reserved, expired`` for every stock row.

    ``expired`` is what lies in lots whose expiry is on or before ``today`` (default: the
    calendar day): it is on hand but not sellable, so the plan does not count it.
    """
    s, lot = t.stock.c, t.lots.c
    df = _frame(conn, select(s.sku, s.location, s.on_hand, s.on_order, s.reserved),
                {"sku": pl.Utf8, "location": pl.Utf8, "on_hand": pl.Int64, "on_order": pl.Int64,
                 "reserved": pl.Int64})
    gone = _frame(conn, select(lot.sku, lot.location, lot.on_hand).where(
        lot.on_hand > 0, lot.expiry.is_not(None), lot.expiry <= (today or date.today())),
        {"sku": pl.Utf8, "location": pl.Utf8, "expired": pl.Int64})
    gone = gone.group_by("sku", "location").agg(pl.col("expired").sum())
    return df.join(gone, on=["sku", "location"], how="left").select(
        unique_id(), "on_hand", "on_order", "reserved", pl.col("expired").fill_null(0))


def shelf_lives(conn: Connection) -> pl.DataFrame:
    """``sku, shelf_life_days`` for the SKUs that have a shelf life."""
    s = t.skus.c
    return _frame(conn, select(s.sku, s.shelf_life_days).where(s.shelf_life_days.is_not(None)),
                  {"sku": pl.Utf8, "shelf_life_days": pl.Int64})


def sellable_lots(conn: Connection, today: date) -> pl.DataFrame:
    """``unique_id, qty, days_to_expiry`` of the lots on hand that expire after ``today``."""
    lot = t.lots.c
    lots = _frame(conn, select(lot.sku, lot.location, lot.on_hand, lot.expiry)
                  .where(lot.on_hand > 0, lot.expiry.is_not(None), lot.expiry > today),
                  {"sku": pl.Utf8, "location": pl.Utf8, "qty": pl.Int64, "expiry": pl.Date})
    return lots.select(unique_id(), pl.col("qty").cast(pl.Float64),
                       (pl.col("expiry") - pl.lit(today)).dt.total_days().alias("days_to_expiry"))


def series_prices(conn: Connection, series: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, price`` for each ``unique_id`` of ``series`` (from the SKU catalogue)."""
    prices = _frame(conn, select(t.skus.c.sku, t.skus.c.price),
                    {"sku": pl.Utf8, "price": pl.Float64})
    return series.select("unique_id").with_columns(split_unique_id()[0]).join(
        prices, on="sku", how="left").select("unique_id", "price")
