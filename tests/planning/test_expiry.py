"""Expiry-aware ordering: worked cases and a scalar day-by-day reference on random instances."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from stockpilot.planning.expiry import cap_orders, expiry_aware_orders


def one(order, d, lead, shelf, lots=()):
    qty = np.array([[q for q, _ in lots] or [0.0]], dtype=float)
    days = np.array([[e for _, e in lots] or [0]], dtype=np.int64)
    got = cap_orders(np.array([float(order)]), np.array([float(d)]), np.array([lead]),
                     np.array([shelf]), qty, days)
    return {k: float(v[0]) for k, v in got.items()}


def test_no_stock_cap_is_demand_over_shelf_life():
    got = one(80, 10, lead=2, shelf=5)  # usable days 2..6 → 50
    assert got["max_order_qty"] == 50 and got["capped_order_qty"] == 50
    assert got["expected_waste_units"] == 0 and got["waste_if_uncapped_units"] == 30


def test_older_lot_is_used_first():
    # 30 units expiring on day 4: days 0, 1, 2 take them (FEFO also on day 2 when the new lot
    # has arrived); the new lot serves days 3..6
    got = one(100, 10, lead=2, shelf=5, lots=[(30, 4)])
    assert got["max_order_qty"] == 40 and got["waste_existing_units"] == 0


def test_waste_of_stock_on_hand_is_reported():
    # 50 units expiring on day 3 at 10 a day: 20 written off whatever is ordered
    got = one(10, 10, lead=1, shelf=5, lots=[(50, 3)])
    assert got["max_order_qty"] == 30 and got["capped_order_qty"] == 10
    assert got["waste_existing_units"] == pytest.approx(20)
    assert got["expected_waste_units"] == pytest.approx(20)


def test_new_lot_expiring_first_is_used_first():
    got = one(100, 10, lead=1, shelf=3, lots=[(100, 30)])
    assert got["max_order_qty"] == 30 and got["waste_if_uncapped_units"] == pytest.approx(70)


def test_no_demand_no_order():
    got = one(20, 0, lead=3, shelf=10)
    assert got["max_order_qty"] == 0 and got["capped_order_qty"] == 0


def reference(order, d, lead, shelf, lots):
    """Day-by-day FEFO replay for one SKU, written the obvious way."""
    stock = [[q, 0, e] for q, e in lots] + [[order, lead, lead + shelf]]
    waste = [0.0] * len(stock)
    for t in range(max(e for _, _, e in stock) + 1):
        for i, (q, _, e) in enumerate(stock):
            if e == t:
                waste[i] += q
                stock[i][0] = 0.0
        need = d
        for i in sorted(range(len(stock)), key=lambda i: stock[i][2]):
            q, a, e = stock[i]
            if a <= t < e and need > 0:
                used = min(q, need)
                stock[i][0] -= used
                need -= used
    return waste


def test_vectorised_matches_reference_on_random_instances():
    rng = np.random.default_rng(8)
    n, m = 60, 3
    d = rng.uniform(0, 15, n)
    lead, shelf = rng.integers(0, 10, n), rng.integers(1, 20, n)
    lot_qty = np.where(rng.random((n, m)) < 0.7, rng.uniform(0, 80, (n, m)), 0.0)
    lot_days = rng.integers(1, 25, (n, m))
    order = rng.uniform(0, 200, n)
    got = cap_orders(order, d, lead, shelf, lot_qty, lot_days)
    for i in range(n):
        lots = list(zip(lot_qty[i], lot_days[i], strict=True))
        w = reference(got["capped_order_qty"][i], d[i], lead[i], shelf[i], lots)
        assert w[-1] == pytest.approx(0, abs=1e-6)  # the capped order wastes nothing
        assert sum(w) == pytest.approx(got["expected_waste_units"][i], abs=1e-6)
        w_unc = reference(order[i], d[i], lead[i], shelf[i], lots)
        assert sum(w_unc) == pytest.approx(got["waste_if_uncapped_units"][i], abs=1e-6)
        if d[i] > 0.01:  # one unit above the cap would be (partly) wasted
            over = reference(got["max_order_qty"][i] + 1, d[i], lead[i], shelf[i], lots)
            assert over[-1] > 0


def test_frame_form():
    orders = pl.DataFrame({"unique_id": ["milk", "bread"], "order_qty": [100, 40],
                           "daily_p50": [10.0, 5.0], "lead_time_days": [2, 1],
                           "shelf_life_days": [5, 3]})
    lots = pl.DataFrame({"unique_id": ["milk", "other"], "qty": [30, 9],
                         "days_to_expiry": [4, 1]})
    got = {r["unique_id"]: r for r in expiry_aware_orders(orders, lots).iter_rows(named=True)}
    assert got["milk"]["capped_order_qty"] == 40 and got["bread"]["capped_order_qty"] == 15
