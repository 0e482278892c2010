"""Expiry-aware ordering: cap an order at what forecast demand can use before it expires.

A lot is usable from its arrival day up to the day before its expiry day (receipts arrive at
the start of a day; on the expiry day what is left is written off — GLOSSARY, simulator day).
Demand of d units a day (the P50 daily forecast) is served first-expiry-first-out (FEFO)
from the lots available that day, as a fluid: fractional units, no randomness. That gives the
expected use of every lot and so the expected waste. The new order arrives after the lead
time L and expires D days later (shelf life). With FEFO, the days it serves do not depend on
its size until it runs out, so it wastes nothing exactly when its size ≤ what it would sell
if unlimited: that is the cap (⌊·⌋ to whole units). The simulation loops over days with all
SKUs and lots as arrays (stockcast's array state), so its cost is n·lots per day of horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LotUse:
    """Fluid FEFO replay result per lot, (n, lots): units used and units written off."""

    used: Array
    wasted: Array


def fefo_use(qty: Array, arrival_day: IntArray, expiry_day: IntArray,
             daily_demand: Array) -> LotUse:
    """Serve ``daily_demand`` (n,) every day from lots (n, m) FEFO; what is used, what expires.

    Args:
        qty: units per lot (0 pads unused lot slots).
        arrival_day: first day each lot can serve (0 = on hand now).
        expiry_day: first day each lot can no longer serve (written off that day).
        daily_demand: units demanded per day per SKU (constant over the horizon).
    """
    order = np.argsort(expiry_day, axis=1, kind="stable")  # FEFO: earliest expiry first
    take = np.take_along_axis
    stock, arr, exp = (take(qty.astype(float), order, 1), take(arrival_day, order, 1),
                       take(expiry_day, order, 1))
    left = stock.copy()
    horizon = int(exp.max(initial=0))
    for t in range(horizon):
        avail = np.where((arr <= t) & (t < exp), left, 0.0)
        before = np.cumsum(avail, axis=1) - avail  # served by earlier-expiring lots first
        left -= np.clip(daily_demand[:, None] - before, 0.0, avail)
    used = np.zeros_like(stock)
    np.put_along_axis(used, order, stock - left, axis=1)
    wasted = np.zeros_like(stock)
    np.put_along_axis(wasted, order, left, axis=1)
    return LotUse(used, wasted)


def cap_orders(order_qty: Array, daily_p50: Array, lead_time_days: IntArray,
               shelf_life_days: IntArray, lot_qty: Array,
               lot_days_to_expiry: IntArray) -> dict[str, Array]:
    """Cap each SKU's order at its usable quantity; report expected waste.

    Args:
        order_qty: proposed order per SKU (n,).
        daily_p50: P50 daily demand per SKU (n,).
        lead_time_days: L, days until the order arrives (n,).
        shelf_life_days: D, days the new lot stays usable after arrival (n,).
        lot_qty: on-hand lots (n, m), 0 where a SKU has fewer lots.
        lot_days_to_expiry: days until each on-hand lot expires (n, m).

    Returns:
        ``max_order_qty`` (the cap), ``capped_order_qty``, ``expected_waste_units`` (all
        lots, with the capped order), ``waste_existing_units`` (on-hand lots, with the
        capped order), ``waste_if_uncapped_units`` (all lots, with the proposed order).
    """
    n = order_qty.shape[0]
    lead = lead_time_days.astype(np.int64)
    new_exp = lead + shelf_life_days.astype(np.int64)
    unlimited = daily_p50 * (new_exp - lead) + 1.0  # more than it could ever sell
    cases = np.concatenate([unlimited, order_qty.astype(float)])  # two scenarios at once
    qty = np.concatenate([np.tile(lot_qty, (2, 1)), cases[:, None]], axis=1)
    arr = np.concatenate([np.zeros((2 * n, lot_qty.shape[1]), dtype=np.int64),
                          np.tile(lead, 2)[:, None]], axis=1)
    exp = np.concatenate([np.tile(lot_days_to_expiry, (2, 1)), np.tile(new_exp, 2)[:, None]],
                         axis=1)
    first = fefo_use(qty, arr, exp, np.tile(daily_p50, 2))
    cap = np.floor(first.used[:n, -1] + 1e-9)
    capped = np.minimum(np.maximum(order_qty, 0.0), cap)
    qty[:n, -1] = capped
    final = fefo_use(qty[:n], arr[:n], exp[:n], daily_p50)
    return {"max_order_qty": cap, "capped_order_qty": capped,
            "expected_waste_units": final.wasted.sum(axis=1),
            "waste_existing_units": final.wasted[:, :-1].sum(axis=1),
            "waste_if_uncapped_units": first.wasted[n:].sum(axis=1)}


def expiry_aware_orders(orders: pl.DataFrame, lots: pl.DataFrame) -> pl.DataFrame:
    """Frame form of :func:`cap_orders`.

    Args:
        orders: ``unique_id, order_qty, daily_p50, lead_time_days, shelf_life_days``.
        lots: ``unique_id, qty, days_to_expiry`` (on-hand lots; SKUs may have none).

    Returns:
        ``orders`` with the columns of :func:`cap_orders` added.
    """
    ids = orders.select("unique_id").with_row_index("i")
    lt = lots.join(ids, on="unique_id", how="inner").with_columns(
        pl.int_range(pl.len()).over("unique_id").alias("slot"))
    width = int(lt["slot"].to_numpy().max(initial=0)) + 1
    qty = np.zeros((orders.height, width))
    days = np.zeros((orders.height, width), dtype=np.int64)
    rows, slots = lt["i"].to_numpy(), lt["slot"].to_numpy()
    qty[rows, slots] = lt["qty"].to_numpy()
    days[rows, slots] = lt["days_to_expiry"].to_numpy()
    got = cap_orders(orders["order_qty"].to_numpy().astype(float),
                     orders["daily_p50"].to_numpy().astype(float),
                     orders["lead_time_days"].to_numpy().astype(np.int64),
                     orders["shelf_life_days"].to_numpy().astype(np.int64), qty, days)
    return orders.with_columns([pl.Series(k, v) for k, v in got.items()])
