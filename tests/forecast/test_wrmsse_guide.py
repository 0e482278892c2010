"""WRMSSE and WSPL against the worked example of the M5 Competitors' Guide ("Weighting").

The guide's example: products A and B of one department in one WI store, two levels (K = 2:
the two products, and their sum). A sold $10 and B $12 in the last 28 training days; a method
scored RMSSE_A = 0.8, RMSSE_B = 0.7 and RMSSE = 0.77 on the aggregate, so

    WRMSSE = 0.8·½·10/22 + 0.7·½·12/22 + 0.77·½·1 = 0.758.

The guide gives the RMSSEs, not the series behind them, so the series here are built by the
RMSSE definition to have exactly those scores: training series alternate (A: 1, 8, …; B: 1, 4,
…, in phase), so the one-step naive errors are ±7, ±3 and ±10 for the sum; forecasts miss by a
constant 0.8·7 = 5.6 (A) and 0.7·3 = 2.1 (B), hence 7.7 = 0.77·10 on the sum. Prices are set so
the last 28 days are worth $10 and $12. Our metrics must compute the RMSSEs, the dollar weights
and the equal level weights themselves to land on 0.758.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.metrics import wrmsse_wspl

D0 = date(2016, 1, 1)
N_TRAIN, H = 56, 28
LEVELS = {"product": ["item"], "total": []}


def _product(item: str, low: float, high: float, dollars_28d: float, miss: float):
    y = [low if t % 2 == 0 else high for t in range(N_TRAIN + H)]
    units_28d = sum(y[N_TRAIN - 28:N_TRAIN])
    price = dollars_28d / units_28d
    days = [D0 + timedelta(days=t) for t in range(N_TRAIN + H)]
    train = pl.DataFrame({"item": item, "ds": days[:N_TRAIN], "y": y[:N_TRAIN]}).with_columns(
        (pl.col("y") * price).alias("dollars"))
    test = pl.DataFrame({"item": item, "ds": days[N_TRAIN:], "y": y[N_TRAIN:]}).with_columns(
        (pl.col("y") - miss).alias("mean"))
    return train, test


@pytest.fixture
def guide_example():
    a_train, a_test = _product("A", 1.0, 8.0, 10.0, 0.8 * 7)
    b_train, b_test = _product("B", 1.0, 4.0, 12.0, 0.7 * 3)
    return pl.concat([a_train, b_train]), pl.concat([a_test, b_test])


def test_wrmsse_reproduces_the_guides_0_758(guide_example):
    train, test = guide_example
    got = wrmsse_wspl(train, test, LEVELS, quantiles=(), value="dollars")
    assert got["wrmsse_product"] == pytest.approx(0.8 * 10 / 22 + 0.7 * 12 / 22)
    assert got["wrmsse_total"] == pytest.approx(0.77)
    assert round(got["wrmsse"], 3) == 0.758
    assert got["wrmsse"] == pytest.approx(0.7577272727)


def test_unit_weights_would_give_another_score(guide_example):
    # the weights must be dollars, not units: A sells 126 units, B 70 in the last 28 days
    train, test = guide_example
    units = wrmsse_wspl(train, test, LEVELS, quantiles=(), value="y")
    assert units["wrmsse"] == pytest.approx(0.5 * (0.8 * 126 / 196 + 0.7 * 70 / 196) + 0.385)
    assert round(units["wrmsse"], 3) != 0.758


def test_wspl_replaces_rmsse_by_spl_with_the_same_weights(guide_example):
    # "RMSSE … can be replaced with SPL to compute WSPL" (same section). With every quantile
    # equal to the point forecast and a constant miss e > 0, SPL = mean(τ)·e / mean|Δy| and
    # the nine M5 levels average to τ = 0.5, so WSPL = 0.5 × 0.758 here.
    train, test = guide_example
    test = test.with_columns(*[pl.col("mean").alias(c) for c in QUANTILE_COLUMNS])
    got = wrmsse_wspl(train, test, LEVELS, value="dollars")
    assert got["wspl"] == pytest.approx(0.5 * 0.7577272727)


def test_level_quantiles_come_from_the_aggregates_own_errors():
    import polars as pl

    from stockpilot.forecast.metrics import level_quantiles, wrmsse_wspl

    # two items whose errors cancel: the total is forecast exactly, though each item is not
    days = [date(2024, 1, d) for d in range(1, 11)]
    cv = pl.DataFrame({
        "unique_id": ["a"] * 10 + ["b"] * 10, "cutoff": [date(2023, 12, 31)] * 20,
        "ds": days * 2, "y": [5.0, 1.0] * 5 + [1.0, 5.0] * 5, "mean": [3.0] * 20})
    fc = pl.DataFrame({"unique_id": ["a", "b"], "ds": [date(2024, 1, 11)] * 2,
                       "mean": [3.0, 3.0]})
    tot = level_quantiles(fc, cv, [])
    assert tot.height == 1
    qs = [c for c in tot.columns if c.startswith("q")]
    assert all(tot[c][0] == pytest.approx(6.0) for c in qs)  # no spread at the total
    # the override reaches the score: a tight correct total beats summed wide quantiles
    train = pl.DataFrame({"unique_id": ["a", "b"] * 20,
                          "ds": [date(2023, 12, 1 + i // 2) for i in range(40)],
                          "y": [5.0, 1.0, 1.0, 5.0, 4.0, 2.0, 2.0, 2.0] * 5})
    from stockpilot.forecast.base import QUANTILES, qcol

    test = fc.with_columns(pl.Series("y", [4.0, 2.0]),
                           *[pl.lit(0.0 if t < 0.5 else 9.0).alias(qcol(t)) for t in QUANTILES])
    levels = {"total": [], "item": ["unique_id"]}
    summed = wrmsse_wspl(train, test, levels)
    own = wrmsse_wspl(train, test, levels, level_q={"total": tot})
    assert own["wspl_total"] < summed["wspl_total"]
    assert own["wspl_item"] == summed["wspl_item"]
