"""Replay daily demand through a periodic-review policy for all SKUs at once.

One simulated day, for every SKU together (GLOSSARY, "the simulator's day"):
  1. receipts due today arrive (on_hand += received);
  2. demand is served from on_hand: sales = min(on_hand, demand); the rest is lost (lost
     sales) or owed (backorders: on_hand goes negative and is served first later);
  3. on review days the policy sees the inventory position after today's sales
     (on_hand + on_order) and orders; an order placed on day t arrives at the start of day
     t + lead time;
  4. on_hand_end is recorded.
So on_hand_end[t] = on_hand_end[t−1] + received[t] − sales[t] for every SKU-day (no waste
here: perishable stock is not simulated yet).

The loop is over days only; each day is a handful of numpy operations over all SKUs
(stockcast's array-state approach), so 30,490 SKUs × 365 days is ~11 M SKU-days in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Policy:
    """(s, S) per SKU and review day: order up to ``order_up_to`` when position ≤ ``reorder_point``.

    Arrays are shaped (n_skus, n_days); only review days are read. ``reorder_point`` None
    means an order-up-to (R, S) policy (order whenever the position is below S).
    """

    order_up_to: FloatArray
    reorder_point: FloatArray | None = None


@dataclass(frozen=True)
class Setup:
    """Simulation settings shared by all SKUs (arrays of MOQ/pack are per SKU)."""

    lead_time: int = 7
    review: int = 7
    first_review: int = 0
    backorders: bool = False
    moq: IntArray | None = None
    pack: IntArray | None = None


@dataclass(frozen=True)
class Trace:
    """Per SKU-day results, each shaped (n_skus, n_days)."""

    demand: IntArray
    sales: IntArray
    lost: IntArray
    on_hand_end: IntArray
    on_order: IntArray
    ordered: IntArray
    received: IntArray
    review_day: npt.NDArray[np.bool_]


def _round(need: FloatArray, setup: Setup) -> IntArray:
    qty = np.ceil(np.maximum(need, 0.0)).astype(np.int64)
    if setup.pack is not None:
        qty = np.where(qty > 0, -(-qty // setup.pack) * setup.pack, 0)
    if setup.moq is not None:
        qty = np.where(qty > 0, np.maximum(qty, setup.moq), 0)
    return qty


def simulate(demand: IntArray, policy: Policy, start_on_hand: IntArray, setup: Setup) -> Trace:
    """Replay ``demand`` (n_skus × n_days, integer units) under ``policy``; see module docs."""
    n, days = demand.shape
    # Day-major buffers: each day reads and writes one contiguous row of n SKUs (a column of
    # an (n, days) array is strided, which costs ~3× at 30k SKUs); the trace is their
    # transpose, a view.
    by_day = np.ascontiguousarray(demand.T, dtype=np.int64)
    arrivals = np.zeros((days + setup.lead_time + 1, n), dtype=np.int64)
    on_hand = start_on_hand.astype(np.int64).copy()
    on_order = np.zeros(n, dtype=np.int64)
    out = {k: np.zeros((days, n), dtype=np.int64)
           for k in ("sales", "lost", "on_hand_end", "on_order", "ordered")}
    review = np.zeros(days, dtype=bool)
    review[setup.first_review::setup.review] = True
    for t in range(days):
        got = arrivals[t]
        on_hand += got
        on_order -= got
        d = by_day[t]
        sales = out["sales"][t]
        if setup.backorders:
            np.clip(np.minimum(on_hand, d), 0, None, out=sales)
            on_hand -= d
        else:
            np.minimum(on_hand, d, out=sales)
            on_hand -= sales
            np.subtract(d, sales, out=out["lost"][t])
        if review[t]:
            position = on_hand + on_order
            due = position < policy.order_up_to[:, t]
            if policy.reorder_point is not None:
                due &= position <= policy.reorder_point[:, t]
            qty = np.where(due, _round(policy.order_up_to[:, t] - position, setup), 0)
            arrivals[t + setup.lead_time] += qty
            on_order += qty
            out["ordered"][t] = qty
        out["on_hand_end"][t] = on_hand
        out["on_order"][t] = on_order
    return Trace(demand=by_day.T, review_day=np.broadcast_to(review, (n, days)),
                 received=arrivals[:days].T, **{k: v.T for k, v in out.items()})
