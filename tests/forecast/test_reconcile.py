"""Reconciliation through hierarchicalforecast: bottom-up keeps items, MinT trusts good totals."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from stockpilot.errors import StockpilotError

pytest.importorskip("hierarchicalforecast")

from stockpilot.forecast.reconcile import reconcile

ITEMS = ["a", "b", "c", "d"]
GROUPS = pl.DataFrame({"unique_id": ITEMS, "group": ["G1", "G1", "G2", "G2"]})
CUT = [date(2024, 1, 1), date(2024, 1, 8)]


def _frames(seed: int = 0):
    """Items forecast 2 too high with noisy errors; aggregates forecast well."""
    rng = np.random.default_rng(seed)
    rows, agg = [], []
    for cutoff in CUT:
        truth = {i: 5.0 for i in ITEMS}
        for h in range(1, 8):
            ds = cutoff + timedelta(days=h)
            for i in ITEMS:
                rows.append((i, cutoff, ds, truth[i], truth[i] + 2 + rng.normal(0, 2)))
            for name, members in (("total", ITEMS), ("G1", ITEMS[:2]), ("G2", ITEMS[2:])):
                y = 5.0 * len(members)
                agg.append((name, cutoff, ds, y, y + rng.normal(0, 0.1)))
    schema = ["unique_id", "cutoff", "ds", "y", "mean"]
    start = date(2024, 1, 15)
    fc = pl.DataFrame([(i, start + timedelta(days=h), 7.0, 6.0, 8.0) for i in ITEMS
                       for h in range(1, 4)], schema=["unique_id", "ds", "mean", "q0.25",
                                                      "q0.75"], orient="row")
    agg_fc = pl.DataFrame([(n, start + timedelta(days=h), 5.0 * k) for n, k in
                           (("total", 4), ("G1", 2), ("G2", 2)) for h in range(1, 4)],
                          schema=["unique_id", "ds", "mean"], orient="row")
    return (fc, pl.DataFrame(rows, schema=schema, orient="row"), agg_fc,
            pl.DataFrame(agg, schema=schema, orient="row"))


def test_bottom_up_keeps_the_items_and_mint_moves_them_to_the_good_totals():
    fc, cv, agg_fc, agg_cv = _frames()
    bu = reconcile(fc, cv, GROUPS, agg_fc, agg_cv, "bottom_up")
    assert np.allclose(bu.sort("unique_id", "ds")["mean"], fc.sort("unique_id", "ds")["mean"])
    mint = reconcile(fc, cv, GROUPS, agg_fc, agg_cv, "mint_shrink")
    total = mint.group_by("ds").agg(pl.col("mean").sum())["mean"]
    assert ((total - 20.0).abs() < 2.0).all()  # from 28 (items) to about 20 (the total model)
    # quantiles moved with the mean
    m = mint.sort("unique_id", "ds")
    assert np.allclose(m["q0.75"] - m["mean"], 1.0, atol=1e-9)


def test_unknown_method_is_refused():
    fc, cv, agg_fc, agg_cv = _frames()
    with pytest.raises(StockpilotError):
        reconcile(fc, cv, GROUPS, agg_fc, agg_cv, "OLS")
