"""Interactions for the recommender: customers × products from order lines, split in time.

Rows without a customer cannot be recommended to anyone, so they only feed item-item
co-occurrence (baskets). Returns (negative quantities) subtract from a customer's signal; a
customer-item pair whose net quantity is not positive carries no signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl
import scipy.sparse as sp


@dataclass
class Interactions:
    """A customer × item matrix of net units, with the id ↔ index maps."""

    users: list[str]
    items: list[str]
    matrix: sp.csr_matrix  # users × items, float32 net units (> 0 only)
    orders: sp.csr_matrix  # users × items, number of distinct orders with the item
    last_seen: sp.csr_matrix  # users × items, days since last purchase at the cut-off (+1)

    def user_index(self) -> dict[str, int]:
        """Customer id → row."""
        return {u: i for i, u in enumerate(self.users)}


def lines_frame(lines: pl.DataFrame) -> pl.DataFrame:
    """Order lines as ``customer_id, sku, quantity, at, order_id`` (from the invoice reader)."""
    return lines.select(pl.col("customer_id"), pl.col("stock_code").alias("sku"), "quantity",
                        pl.col("invoiced_at").alias("at"), pl.col("invoice_no").alias("order_id"))


def build(lines: pl.DataFrame, cutoff: datetime, items: list[str] | None = None) -> Interactions:
    """Net units per customer and item before ``cutoff``."""
    before = lines.filter(pl.col("at") < cutoff, pl.col("customer_id").is_not_null())
    net = before.group_by("customer_id", "sku").agg(
        pl.col("quantity").sum().alias("units"), pl.col("at").max().alias("last"),
        pl.col("order_id").filter(pl.col("quantity") > 0).n_unique().alias("n_orders"))
    net = net.filter(pl.col("units") > 0)
    users = sorted(net["customer_id"].unique().to_list())
    items = items or sorted(lines.filter(pl.col("at") < cutoff)["sku"].unique().to_list())
    ui = {u: i for i, u in enumerate(users)}
    ii = {s: i for i, s in enumerate(items)}
    net = net.filter(pl.col("sku").is_in(items))
    rows = net["customer_id"].replace_strict(ui, return_dtype=pl.Int64).to_numpy()
    cols = net["sku"].replace_strict(ii, return_dtype=pl.Int64).to_numpy()
    shape = (len(users), len(items))
    units = sp.csr_matrix((net["units"].to_numpy().astype(np.float32), (rows, cols)), shape)
    days = net.select(((pl.lit(cutoff) - pl.col("last")).dt.total_days() + 1).alias("d"))["d"]
    recency = sp.csr_matrix((days.to_numpy().astype(np.float32), (rows, cols)), shape)
    orders = sp.csr_matrix((net["n_orders"].to_numpy().astype(np.float32), (rows, cols)), shape)
    return Interactions(users, items, units, orders, recency)


def baskets(lines: pl.DataFrame, cutoff: datetime, items: list[str]) -> sp.csr_matrix:
    """Orders × items (binary) before the cut-off, including orders without a customer."""
    before = lines.filter(pl.col("at") < cutoff, pl.col("quantity") > 0,
                          pl.col("sku").is_in(items))
    orders = before["order_id"].unique().to_list()
    oi = {o: i for i, o in enumerate(orders)}
    ii = {s: i for i, s in enumerate(items)}
    rows = before["order_id"].replace_strict(oi, return_dtype=pl.Int64).to_numpy()
    cols = before["sku"].replace_strict(ii, return_dtype=pl.Int64).to_numpy()
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                      (len(orders), len(items)))
    m.data[:] = 1.0
    return m


def truth(lines: pl.DataFrame, start: datetime, end: datetime, users: list[str]
          ) -> dict[str, set[str]]:
    """Items each known customer bought (net positive) in ``[start, end)``."""
    after = lines.filter(pl.col("at") >= start, pl.col("at") < end,
                         pl.col("customer_id").is_in(users))
    net = after.group_by("customer_id", "sku").agg(pl.col("quantity").sum()) \
        .filter(pl.col("quantity") > 0)
    out: dict[str, set[str]] = {}
    for u, s in net.select("customer_id", "sku").iter_rows():
        out.setdefault(u, set()).add(s)
    return out


def descriptions(lines: pl.DataFrame) -> dict[str, str]:
    """Item id → its most frequent description (invoice lines with ``stock_code, description``)."""
    if "description" not in lines.columns:
        return {}
    sku = "stock_code" if "stock_code" in lines.columns else "sku"
    top = (lines.filter(pl.col("description").is_not_null())
           .group_by(sku, "description").len()
           .sort(["len", "description"], descending=[True, False])
           .unique(subset=[sku], keep="first"))
    return dict(zip(top[sku].to_list(), top["description"].to_list(), strict=True))
