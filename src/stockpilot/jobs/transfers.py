"""``stockpilot transfers plan``: allocate a distribution centre's stock to stores (LP, HiGHS).

Each store's target for a SKU is its need computed NOW: the latest plan's order-up-to level
minus the store's fresh inventory position (sellable on hand + on order + in transit −
reserved), so an order approved or a transfer shipped since the plan ran is not supplied
again. When the plan ran with a sourcing network, only the stores it routed to this DC are
served, each at most the transfer the same plan run suggested. The DC's fresh available stock
is split by :func:`stockpilot.planning.allocation.allocate` (min transfer cost + lost-margin
cost, capacities per store); each line says why. Applying ships the lines: they are in transit
(counted at the store) until received.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from stockpilot.domain.series import split_unique_id
from stockpilot.errors import StockpilotError
from stockpilot.planning.allocation import allocate
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import reading, transact
from stockpilot.usecases.plan_inputs import load_positions, series_prices
from stockpilot.usecases.transit import Shipment, in_transit, ship, shipped_before

if TYPE_CHECKING:
    from sqlalchemy import Engine


def fresh_positions(engine: Engine) -> pl.DataFrame:
    """``unique_id, sku, location, available, inventory_position`` as the ledger stands now."""
    with reading(engine) as uow:
        pos = load_positions(uow.conn).join(in_transit(uow.conn), on="unique_id", how="left")
    sellable = pl.col("on_hand") - pl.col("expired")
    return pos.select(
        "unique_id", *split_unique_id(),
        (sellable - pl.col("reserved")).clip(lower_bound=0).alias("available"),
        (sellable + pl.col("on_order") + pl.col("in_transit").fill_null(0) - pl.col("reserved"))
        .alias("inventory_position"))


def plan_transfers(engine: Engine, history: HistoryStore, dc: str, *,
                   transfer_cost: float = 0.5, capacity: dict[str, float] | None = None
                   ) -> pl.DataFrame:
    """``sku, from_location, to_location, qty, target, dc_available, reason`` (qty > 0 only)."""
    if "latest" not in history.parts("plans"):
        raise StockpilotError("no plan yet: run `stockpilot plan` first")
    plan = history.read("plans", "latest")
    pos = fresh_positions(engine)
    at_dc = pos.filter(pl.col("location") == dc).select("sku", "available")
    if at_dc.is_empty():
        raise StockpilotError(f"no stock at {dc!r}: nothing to allocate")
    need = _targets(plan, pos, dc).join(at_dc, on="sku", how="inner").filter(
        pl.col("target") > 0)
    cols = ["sku", "from_location", "to_location", "qty", "target", "dc_available", "reason"]
    if need.is_empty():
        return pl.DataFrame(schema=dict.fromkeys(cols, pl.Utf8)).with_columns(
            pl.col("qty", "target", "dc_available").cast(pl.Int64))
    with reading(engine) as uow:
        need = need.join(series_prices(uow.conn, need), on="unique_id", how="left")
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


def _targets(plan: pl.DataFrame, pos: pl.DataFrame, dc: str) -> pl.DataFrame:
    """Per store line: order-up-to − fresh position (capped by the plan's own transfer)."""
    routed = "transfer_from" in plan.columns and plan["transfer_from"].is_not_null().any()
    lines = plan.filter(pl.col("transfer_from") == dc) if routed else plan
    # a store without a stock row yet has nothing: position 0
    got = lines.select("unique_id", "order_up_to", *(["transfer_qty"] if routed else []),
                       *split_unique_id()).join(
        pos.select("unique_id", "inventory_position"), on="unique_id", how="left").filter(
        pl.col("location") != dc).with_columns(pl.col("inventory_position").fill_null(0))
    target = (pl.col("order_up_to") - pl.col("inventory_position")).clip(lower_bound=0)
    if routed:
        target = pl.min_horizontal(target, pl.col("transfer_qty"))
    return got.with_columns(target.cast(pl.Int64).alias("target"))


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
    """What the ledger did with the lines: shipped now, shipped before, refused."""

    applied: int
    duplicates: int
    rejected: list[RejectedTransfer]


def apply_transfers(engine: Engine, transfers: pl.DataFrame, *,
                    at: datetime | None = None, transit_days: int = 1) -> TransferReport:
    """Ship the transfers (idempotent per SKU, route and day) and report what happened.

    The units leave the DC now and are in transit to the store, expected ``transit_days``
    later, until received (:func:`stockpilot.usecases.transit.receive`). Each line is shipped
    in its own transaction, so a line the ledger refuses is reported, never counted as sent.
    """
    when = at or datetime.now(UTC)
    day = when.date().isoformat()
    lines = [Shipment(event_id=f"alloc-{day}-{r['sku']}-{r['from_location']}-"
                               f"{r['to_location']}", sku=r["sku"],
                      from_location=r["from_location"], to_location=r["to_location"],
                      quantity=int(r["qty"]), expected_at=when.date() + timedelta(transit_days))
             for r in transfers.iter_rows(named=True)]
    with reading(engine) as uow:
        before = shipped_before(uow, [ln.event_id for ln in lines])
    applied, rejected = 0, []
    for ln in lines:
        if ln.event_id in before:
            continue
        try:
            transact(engine, ship, [ln], when)
            applied += 1
        except StockpilotError as exc:
            rejected.append(RejectedTransfer(ln.event_id, ln.sku, ln.from_location,
                                             ln.to_location, ln.quantity, str(exc)))
    return TransferReport(applied, len(before), rejected)
