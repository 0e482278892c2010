"""Replay daily demand through a periodic-review policy for all SKUs at once.

One simulated day, for every SKU together (GLOSSARY, "the simulator's day"):
  1. receipts due today arrive (on_hand += received);
  2. demand is served from on_hand: sales = min(on_hand, demand); the rest is lost (lost
     sales) or owed (backorders: on_hand goes negative and is served first later);
  3. on review days the policy sees the inventory position after today's sales
     (on_hand + on_order) and orders; an order placed on day t arrives at the start of day
     t + lead time;
  4. on_hand_end is recorded.
So on_hand_end[t] = on_hand_end[t−1] + received[t] − sales[t] − wasted[t] for every SKU-day.

Perishable SKUs (``Setup.shelf_life`` > 0, lost sales): every receipt is a lot that can be sold
from its arrival day up to the day before arrival + shelf life, when what is left is written
off (``wasted``) before the day's sales; sales take the oldest lot first (FIFO, which is FEFO
when all lots of a SKU keep equally long). Lead times may differ per SKU (``Setup.lead_times``).
A policy may instead be a function deciding the order on each review day from the state
(``decide``): the simulator's "ours" calls the planning pipeline there.

The loop is over days only; each day is a handful of numpy operations over all SKUs
(stockcast's array-state approach), so 30,490 SKUs × 365 days is ~11 M SKU-days in seconds.
"""

from __future__ import annotations

from collections.abc import Callable
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
    lead_times: IntArray | None = None  # per SKU; overrides ``lead_time``
    shelf_life: IntArray | None = None  # per SKU days, ≤ 0 = keeps forever


@dataclass(frozen=True)
class State:
    """What a deciding policy sees on a review day (after that day's sales)."""

    day: int
    on_hand: IntArray
    on_order: IntArray
    lots: FloatArray | None  # (n, k) units left per lot, oldest first (perishable SKUs)
    lot_days_left: IntArray | None  # (n, k) days until each lot is written off


Decide = Callable[[State], IntArray]


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
    wasted: IntArray | None = None


def _round(need: FloatArray, setup: Setup) -> IntArray:
    qty = np.ceil(np.maximum(need, 0.0)).astype(np.int64)
    if setup.pack is not None:
        qty = np.where(qty > 0, -(-qty // setup.pack) * setup.pack, 0)
    if setup.moq is not None:
        qty = np.where(qty > 0, np.maximum(qty, setup.moq), 0)
    return qty


def simulate(demand: IntArray, policy: Policy | None, start_on_hand: IntArray, setup: Setup,
             decide: Decide | None = None) -> Trace:
    """Replay ``demand`` (n_skus × n_days, integer units) under ``policy`` or ``decide``.

    See the module docs; exactly one of ``policy`` and ``decide`` is given.
    """
    n, days = demand.shape
    lead = (np.full(n, setup.lead_time, dtype=np.int64) if setup.lead_times is None
            else setup.lead_times.astype(np.int64))
    # Day-major buffers: each day reads and writes one contiguous row of n SKUs (a column of
    # an (n, days) array is strided, which costs ~3× at 30k SKUs); the trace is their
    # transpose, a view.
    by_day = np.ascontiguousarray(demand.T, dtype=np.int64)
    arrivals = np.zeros((days + int(lead.max(initial=0)) + 1, n), dtype=np.int64)
    on_hand = start_on_hand.astype(np.int64).copy()
    on_order = np.zeros(n, dtype=np.int64)
    out = {k: np.zeros((days, n), dtype=np.int64)
           for k in ("sales", "lost", "on_hand_end", "on_order", "ordered", "wasted")}
    lots = _Lots.start(setup.shelf_life, on_hand, arrivals.shape[0])
    review = np.zeros(days, dtype=bool)
    review[setup.first_review::setup.review] = True
    cols = np.arange(n)
    for t in range(days):
        got = arrivals[t]
        on_hand += got
        on_order -= got
        if lots is not None:
            lots.receive(t, got)
            on_hand -= lots.expire(t, out["wasted"][t])
        d = by_day[t]
        sales = out["sales"][t]
        if setup.backorders:
            np.clip(np.minimum(on_hand, d), 0, None, out=sales)
            on_hand -= d
        else:
            np.minimum(on_hand, d, out=sales)
            on_hand -= sales
            np.subtract(d, sales, out=out["lost"][t])
        if lots is not None:
            lots.sell(t, sales)
        if review[t]:
            if decide is not None:
                qty = decide(State(t, on_hand.copy(), on_order.copy(),
                                   *(lots.view(t) if lots is not None else (None, None))))
            else:
                assert policy is not None
                qty = _order(policy, t, on_hand + on_order, setup)
            arrivals[t + lead, cols] += qty
            on_order += qty
            out["ordered"][t] = qty
        out["on_hand_end"][t] = on_hand
        out["on_order"][t] = on_order
    return Trace(demand=by_day.T, review_day=np.broadcast_to(review, (n, days)),
                 received=arrivals[:days].T, **{k: v.T for k, v in out.items()})


def _order(policy: Policy, t: int, position: IntArray, setup: Setup) -> IntArray:
    due = position < policy.order_up_to[:, t]
    if policy.reorder_point is not None:
        due &= position <= policy.reorder_point[:, t]
    out: IntArray = np.where(due, _round(policy.order_up_to[:, t] - position, setup), 0)
    return out


@dataclass
class _Lots:
    """Units left per SKU by arrival day (rows), for the perishable SKUs (columns ``idx``)."""

    n: int
    idx: IntArray
    life: IntArray
    left: IntArray  # (days + lead + 1, len(idx)); row a = what arrived on day a

    @staticmethod
    def start(shelf: IntArray | None, on_hand: IntArray, rows: int) -> _Lots | None:
        if shelf is None or not (shelf > 0).any():
            return None
        idx = np.flatnonzero(shelf > 0)
        left = np.zeros((rows, idx.size), dtype=np.int64)
        left[0] = on_hand[idx]  # the starting stock counts as fresh on day 0
        return _Lots(on_hand.size, idx, shelf[idx].astype(np.int64), left)

    def receive(self, t: int, got: IntArray) -> None:
        if t:
            self.left[t] += got[self.idx]

    def expire(self, t: int, wasted: IntArray) -> IntArray:
        """Write off lots whose life ends today; returns the units per SKU (all SKUs)."""
        born = t - self.life
        ok = born >= 0
        k = np.flatnonzero(ok)
        gone = np.zeros(self.idx.size, dtype=np.int64)
        gone[k] = self.left[born[k], k]
        self.left[born[k], k] = 0
        wasted[self.idx] = gone
        full = np.zeros_like(wasted)
        full[self.idx] = gone
        return full

    def sell(self, t: int, sales: IntArray) -> None:
        lo = max(t - int(self.life.max()) + 1, 0)
        window = self.left[lo:t + 1]
        before = np.cumsum(window, axis=0) - window  # oldest lots are sold first
        window -= np.clip(sales[self.idx][None, :] - before, 0, window)

    def view(self, t: int) -> tuple[FloatArray, IntArray]:
        """(n, k) lots left and days until each is written off, for every SKU."""
        lo = max(t - int(self.life.max()) + 1, 0)
        window = self.left[lo:t + 1].T  # (perishable SKUs, k), oldest first
        days_left = (lo + np.arange(window.shape[1]))[None, :] + self.life[:, None] - t
        qty = np.zeros((self.n, window.shape[1]))
        left = np.zeros((self.n, window.shape[1]), dtype=np.int64)
        qty[self.idx] = np.where(days_left > 0, window, 0)
        left[self.idx] = np.maximum(days_left, 0)
        return qty, left
