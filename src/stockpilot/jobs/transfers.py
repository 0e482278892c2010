"""``stockpilot transfers plan``: allocate a distribution centre's stock to stores (LP, HiGHS).

Each store's target for a SKU is its need in the latest plan — order-up-to level (the class
service-level quantile of its own forecast over lead time + review) minus its inventory
position. The DC's available stock is split by :func:`stockpilot.planning.allocation.allocate`
(min transfer cost + lost-margin cost, capacities per store); each line says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from stockpilot.domain.commands import TransferStock
from stockpilot.domain.series import split_unique_id
from stockpilot.errors import StockpilotError
from stockpilot.jobs.plan import load_positions, sku_prices
from stockpilot.ledger.service import apply_events
from stockpilot.planning.allocation import allocate
from stockpilot.store.history import HistoryStore

if TYPE_CHECKING:
    from sqlalchemy import Engine


def plan_transfers(engine: Engine, history: HistoryStore, dc: str, *,
                   transfer_cost: float = 0.5, capacity: dict[str, float] | None = None
                   ) -> pl.DataFrame:
    """``sku, from_location, to_location, qty, target, dc_available, reason`` (qty > 0 only)."""
    if "latest" not in history.parts("plans"):
        raise StockpilotError("no plan yet: run `stockpilot plan` first")
    plan = history.read("plans", "latest").with_columns(split_unique_id())
    pos = load_positions(engine).with_columns(split_unique_id())
    at_dc = pos.filter(pl.col("location") == dc).select(
        "sku", (pl.col("on_hand") - pl.col("reserved")).clip(lower_bound=0).alias("available"))
    if at_dc.is_empty():
        raise StockpilotError(f"no stock at {dc!r}: nothing to allocate")
    need = (plan.filter(pl.col("location") != dc)
            .select("unique_id", "sku", "location", "order_up_to", "inventory_position",
                    (pl.col("order_up_to") - pl.col("inventory_position")).clip(lower_bound=0)
                    .alias("target"))
            .join(at_dc, on="sku", how="inner").filter(pl.col("target") > 0))
    cols = ["sku", "from_location", "to_location", "qty", "target", "dc_available", "reason"]
    if need.is_empty():
        return pl.DataFrame(schema=dict.fromkeys(cols, pl.Utf8)).with_columns(
            pl.col("qty", "target", "dc_available").cast(pl.Int64))
    need = need.join(sku_prices(engine, need), on="unique_id", how="left")
    skus = sorted(need["sku"].unique().to_list())
    stores = sorted(need["location"].unique().to_list())
    si = {s: i for i, s in enumerate(skus)}
    li = {s: i for i, s in enumerate(stores)}
    r = need["sku"].replace_strict(si, return_dtype=pl.Int64).to_numpy()
    c = need["location"].replace_strict(li, return_dtype=pl.Int64).to_numpy()
    target = np.zeros((len(skus), len(stores)))
    target[r, c] = need["target"].to_numpy()
    # a unit not sent is a sale likely lost: its price (1.0 when the catalogue has none)
    short = np.zeros_like(target)
    short[r, c] = need["price"].fill_null(1.0).to_numpy()
    avail = at_dc.filter(pl.col("sku").is_in(skus)).sort(
        pl.col("sku").replace_strict(si, return_dtype=pl.Int64))["available"].to_numpy()
    cap = None
    if capacity:
        cap = np.array([capacity.get(s, np.inf) for s in stores], dtype=float)
    got = allocate(avail.astype(float), target, np.full_like(target, transfer_cost), short, cap)
    sent = np.floor(got.sent + 1e-9)
    out = need.with_columns(pl.Series("qty", sent[r, c].astype(np.int64))).filter(
        pl.col("qty") > 0)
    return out.select(
        "sku", pl.lit(dc).alias("from_location"), pl.col("location").alias("to_location"),
        "qty", pl.col("target").cast(pl.Int64), pl.col("available").alias("dc_available"),
        pl.format("store need {} (order-up-to {} − position {}); {} has {} for all stores; "
                  "sent {} (LP: transfer {} per unit vs lost price {} per unit)",
                  pl.col("target").cast(pl.Int64), pl.col("order_up_to"),
                  pl.col("inventory_position"), pl.lit(dc), pl.col("available"), pl.col("qty"),
                  pl.lit(transfer_cost), pl.col("price").fill_null(1.0)).alias("reason"),
    ).sort("sku", "to_location")


@dataclass(frozen=True)
class RejectedTransfer:
    """A transfer line the ledger refused, and why (e.g. the DC no longer had the units)."""

    event_id: str
    sku: str
    from_location: str
    to_location: str
    qty: int
    error: str


@dataclass(frozen=True)
class TransferReport:
    """What the ledger did with the posted lines: applied now, applied before, refused."""

    applied: int
    duplicates: int
    rejected: list[RejectedTransfer]


def apply_transfers(engine: Engine, transfers: pl.DataFrame, *,
                    at: datetime | None = None) -> TransferReport:
    """Post the transfers to the ledger (idempotent per SKU, route and day).

    Reads each event's result: a line the ledger rejected is reported, not counted as posted.
    """
    when = at or datetime.now(UTC)
    day = when.date().isoformat()
    cmds = [TransferStock(event_id=f"alloc-{day}-{r['sku']}-{r['from_location']}-"
                                   f"{r['to_location']}", sku=r["sku"],
                          location=r["from_location"], to_location=r["to_location"],
                          quantity=int(r["qty"]), occurred_at=when)
            for r in transfers.iter_rows(named=True)]
    results = apply_events(engine, cmds)
    rejected = [RejectedTransfer(r.event_id, c.sku, c.location, c.to_location, c.quantity,
                                 r.error or "rejected")
                for r, c in zip(results, cmds, strict=True) if r.status == "rejected"]
    return TransferReport(sum(r.status == "applied" for r in results),
                          sum(r.status == "duplicate" for r in results), rejected)
