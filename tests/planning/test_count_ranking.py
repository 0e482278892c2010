"""Cycle-count ranking and tolerance (pure: no database)."""

from __future__ import annotations

import math

import polars as pl
import pytest

from stockpilot.planning.counting import (
    INPUT_SCHEMA,
    CountPolicy,
    check_count,
    count_list,
    rank_counts,
)


def _frame(rows: list[dict]) -> pl.DataFrame:
    base = {"on_hand": 10, "unit_cost": 1.0, "sold_365": 0, "sold_28": 0,
            "days_since_count": None, "quiet_days": None, "last_variance": None,
            "location": "S"}
    return pl.DataFrame([{**base, **r} for r in rows], schema=INPUT_SCHEMA)


def test_abc_by_usage_value_within_each_location_and_frequencies():
    # usage values 800, 150, 50 at S: A covers the first 80 %, B the next 15 %
    df = _frame([{"sku": "a", "sold_365": 800}, {"sku": "b", "sold_365": 150},
                 {"sku": "c", "sold_365": 50}, {"sku": "z", "location": "W", "sold_365": 1}])
    out = rank_counts(df, CountPolicy())
    got = {(r["sku"], r["location"]): (r["abc"], r["frequency_days"])
           for r in out.iter_rows(named=True)}
    assert got == {("a", "S"): ("A", 30), ("b", "S"): ("B", 91), ("c", "S"): ("C", 365),
                   ("z", "W"): ("A", 30)}


def test_due_by_class_frequency_and_risk_is_the_product():
    policy = CountPolicy()
    df = _frame([{"sku": "a", "sold_365": 800, "sold_28": 56, "days_since_count": 31,
                  "quiet_days": 0},
                 {"sku": "c", "sold_365": 1, "days_since_count": 100, "quiet_days": 0}])
    out = {r["sku"]: r for r in rank_counts(df, policy).iter_rows(named=True)}
    assert out["a"]["due"] and not out["c"]["due"]  # A: 31 ≥ 30; C: 100 < 365
    velocity = 56 / 28 + 1 / 30
    assert out["a"]["risk"] == pytest.approx(10 * 1.0 * velocity * 31 * 1.0)
    assert out["a"]["rank"] == 1
    assert list(count_list(rank_counts(df, policy))["sku"]) == ["a"]


def test_phantom_suspicion_raises_the_anomaly_at_the_alert_threshold():
    # 2 a day, silent for n days: P = exp(-2n); the 1 % threshold adds exactly 1
    n = -math.log(0.01) / 2
    df = _frame([{"sku": "x", "sold_28": 56, "quiet_days": 5, "days_since_count": 1},
                 {"sku": "y", "sold_28": 56, "quiet_days": 0, "days_since_count": 1}])
    out = {r["sku"]: r for r in rank_counts(df, CountPolicy()).iter_rows(named=True)}
    assert out["x"]["phantom_p"] == pytest.approx(math.exp(-10))
    assert out["x"]["anomaly"] == pytest.approx(1 + min(10 / (2 * n), 4.0))
    assert out["x"]["due"] and not out["y"]["due"]  # flagged although counted yesterday
    assert out["y"]["anomaly"] == 1.0


def test_last_variance_adds_a_bonus_and_empty_shelves_still_rank():
    df = _frame([{"sku": "v", "last_variance": -3, "days_since_count": 10, "on_hand": 0},
                 {"sku": "w", "last_variance": 0, "days_since_count": 10, "on_hand": 0}])
    out = {r["sku"]: r for r in rank_counts(df, CountPolicy()).iter_rows(named=True)}
    assert out["v"]["anomaly"] == 1.5 and out["w"]["anomaly"] == 1.0
    assert out["w"]["risk"] > 0


@pytest.mark.parametrize(("expected", "counted", "recount"), [
    (100, 105, False),   # 5 % of 100 = 5 units: at the tolerance
    (100, 94, True),     # 6 units
    (10, 12, False),     # 2 units (the unit floor beats 5 % of 10)
    (10, 13, True),
    (0, 2, False),
])
def test_tolerance_is_the_larger_of_units_and_percent(expected, counted, recount):
    got = check_count(expected, counted, CountPolicy(tolerance_units=2, tolerance_pct=5))
    assert got.recount is recount and got.variance == counted - expected


def test_bad_policy_and_negative_count_are_refused():
    with pytest.raises(ValueError, match="a_days"):
        CountPolicy(a_days=100, b_days=30)
    with pytest.raises(ValueError, match="negative"):
        check_count(3, -1, CountPolicy())
