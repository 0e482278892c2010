"""``stockpilot import online-retail FILE``: UCI Online Retail into catalogue, orders, history.

* StockCodes become SKUs at one location (``ONLINE``), named by their most frequent
  description and priced at their median unit price;
* invoice lines become order lines (source ``online_retail``): cancellations (``C…``) are
  returns with negative quantity; customers are kept for the recommender;
* net daily units per StockCode go to the history store (``daily/online_retail``).

Lines that are not products — postage, discounts, manual entries, bank charges, fees,
gift vouchers (StockCodes without a digit, or ``gift_…``) — and negative quantities on
ordinary invoices (stock write-offs the shop booked as lines) are left out of demand and
counted in the report; they are not errors. Historic sales do not move stock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, Engine, select

from stockpilot.ingest.online_retail import DEFAULT_LOCATION, daily_demand, read_invoices
from stockpilot.ledger import catalogue as cat
from stockpilot.store import schema as t
from stockpilot.store import staging
from stockpilot.store.bulk import bulk_insert
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import UnitOfWork

SOURCE = "online_retail"


@dataclass(frozen=True)
class RetailReport:
    """What an Online Retail import wrote and left out."""

    lines: int
    product_lines: int
    non_product_lines: int
    write_off_lines: int
    skus: int
    customers: int
    order_lines_written: int
    daily_rows: int


def is_product(stock_code: pl.Expr) -> pl.Expr:
    """True for real product StockCodes (they contain a digit and are not gift vouchers)."""
    return stock_code.str.contains(r"\d") & ~stock_code.str.to_lowercase().str.starts_with("gift_")


def split_lines(lines: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """(product sale/return lines, number of non-product lines, number of write-off lines)."""
    product = lines.filter(is_product(pl.col("stock_code")))
    write_off = product.filter((pl.col("quantity") < 0) & ~pl.col("is_cancellation"))
    kept = product.filter((pl.col("quantity") != 0) &
                          ((pl.col("quantity") > 0) | pl.col("is_cancellation")))
    return kept, lines.height - product.height, write_off.height


def import_online_retail(engine: Engine | None, path: Path, history: HistoryStore,
                         location: str = DEFAULT_LOCATION) -> RetailReport:
    """Import the file; see the module docstring. ``engine`` None writes history only."""
    lines = read_invoices(path)
    kept, non_product, write_offs = split_lines(lines)
    daily = daily_demand(kept, location)
    skus = _skus(kept)
    customers = _customers(kept)
    written = 0
    staging.recover(history, engine)  # finish or undo a killed import first
    with staging.staged(history, SOURCE) as stage:
        stage.write_daily(SOURCE, daily)
        if engine is not None:
            with UnitOfWork(engine) as uow:
                conn = uow.conn
                cat.upsert_locations(conn, [{"location": location, "name": "Web shop",
                                             "kind": "online"}])
                cat.upsert_skus(conn, skus.to_dicts())
                _upsert_customers(conn, customers)
                written = _order_lines(conn, kept, location)
                stage.record(conn)
                uow.commit()
    stage.publish()  # after the commit: a kill here is finished by the next run's recover
    return RetailReport(lines.height, kept.height, non_product, write_offs, skus.height,
                        customers.height, written, daily.height)


def _skus(kept: pl.DataFrame) -> pl.DataFrame:
    names = (kept.filter(pl.col("description").is_not_null())
             .group_by("stock_code", "description").len()
             .sort("len", "description", descending=[True, False])
             .group_by("stock_code", maintain_order=True).first()
             .select("stock_code", pl.col("description").alias("name")))
    prices = kept.filter(pl.col("unit_price") > 0).group_by("stock_code").agg(
        pl.col("unit_price").median().round(2).alias("price"))
    return (kept.select("stock_code").unique()
            .join(names, on="stock_code", how="left").join(prices, on="stock_code", how="left")
            .select(pl.col("stock_code").alias("sku"),
                    pl.coalesce("name", "stock_code").str.slice(0, 255).alias("name"),
                    pl.lit("giftware").alias("category"), "price")
            .sort("sku"))


def _customers(kept: pl.DataFrame) -> pl.DataFrame:
    return (kept.filter(pl.col("customer_id").is_not_null())
            .group_by("customer_id")
            .agg(pl.col("country").first(), pl.col("invoiced_at").min().alias("first_seen"))
            .with_columns(pl.col("first_seen").dt.replace_time_zone("UTC"))
            .sort("customer_id"))


def _upsert_customers(conn: Connection, customers: pl.DataFrame) -> None:
    have = set(conn.execute(select(t.customers.c.customer_id)).scalars())
    new = customers.filter(~pl.col("customer_id").is_in(sorted(have)))
    bulk_insert(conn, t.customers, new.to_dicts())


def _order_lines(conn: Connection, kept: pl.DataFrame, location: str) -> int:
    c = t.order_lines.c
    have = set(conn.execute(select(c.line_key).where(c.source == SOURCE)).scalars())
    rows = (kept.with_columns((pl.col("invoice_no") + ":" + pl.col("row").cast(pl.Utf8))
                              .alias("line_key"))
            .filter(~pl.col("line_key").is_in(sorted(have)))
            .select(pl.lit(SOURCE).alias("source"), pl.col("invoice_no").alias("order_id"),
                    "line_key", "customer_id", pl.col("stock_code").alias("sku"),
                    pl.lit(location).alias("location"), "quantity", "unit_price",
                    pl.col("invoiced_at").dt.replace_time_zone("UTC").alias("occurred_at")))
    bulk_insert(conn, t.order_lines, rows.to_dicts())
    return rows.height
