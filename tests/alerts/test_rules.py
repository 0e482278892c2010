"""Each position/plan rule, firing and not firing, on hand-built frames."""

from __future__ import annotations

from datetime import date

import polars as pl

from stockpilot.alerts import rules


def _pos(available: int) -> pl.DataFrame:
    return pl.DataFrame({"sku": ["A"], "location": ["W"], "available": [available]})


PLAN = pl.DataFrame({"unique_id": ["A@W"], "reorder_point": [10], "protection_days": [14]})


def test_low_stock_at_the_reorder_point_fires_above_it_does_not():
    assert [f.rule for f in rules.low_stock(_pos(10), PLAN)] == ["low_stock"]
    assert rules.low_stock(_pos(11), PLAN) == []


def test_low_stock_ignores_skus_without_a_plan():
    other = PLAN.with_columns(pl.lit("B@W").alias("unique_id"))
    assert rules.low_stock(_pos(0), other) == []


FC = pl.DataFrame({"unique_id": ["A@W"] * 2, "ds": [date(2024, 1, 2), date(2024, 1, 3)],
                   "mean": [2.0, 2.0]})


def test_projected_stockout_when_cover_is_shorter_than_the_lead_time():
    # lead time = protection 14 − review 7 = 7 days; 2/day → 13 units cover 6.5 days
    [f] = rules.projected_stockout(_pos(13), FC, PLAN)
    assert f.severity == "critical" and "stock runs out on day 7 (2024-01-08)" in f.message
    assert rules.projected_stockout(_pos(14), FC, PLAN) == []  # exactly 7 days: fine


def test_projected_stockout_prefers_an_explicit_lead_time():
    plan = PLAN.with_columns(pl.lit(3).alias("lead_time_days"))
    assert rules.projected_stockout(_pos(7), FC, plan) == []  # 3.5 days ≥ 3
    assert len(rules.projected_stockout(_pos(5), FC, plan)) == 1


def test_projected_stockout_not_for_zero_forecast():
    fc = FC.with_columns(pl.lit(0.0).alias("mean"))
    assert rules.projected_stockout(_pos(0), fc, PLAN) == []


def _count(variance: int, counted: int) -> pl.DataFrame:
    return pl.DataFrame({"sku": ["A"], "location": ["W"], "variance": [variance],
                         "counted": [counted]})


def test_count_discrepancy_needs_both_units_and_share_beyond_tolerance():
    assert rules.count_discrepancy(_count(-6, 44)) == [
        rules.Finding("count_discrepancy", "A", "W", "warning",
                      "count found 44, books said 50 (variance -6)")]
    assert rules.count_discrepancy(_count(-5, 45)) == []     # 5 units: within tolerance
    assert rules.count_discrepancy(_count(-8, 992)) == []    # 8 of 1,000: under 10%
    assert len(rules.count_discrepancy(_count(+7, 17))) == 1  # surplus counts too


LOTS = pl.DataFrame({"sku": ["A"], "location": ["W"], "lot_code": ["L1"],
                     "expiry": [date(2024, 1, 4)], "on_hand": [5]})


def test_expiring_lot_with_more_than_the_forecast_sells_in_time():
    # forecast sells 2 (Jan 2) + 2 (Jan 3) = 4 before Jan 4 → 5 on hand: 1 will expire
    [f] = rules.expiring_lots(LOTS, FC, date(2024, 1, 1))
    assert "forecast sells 4" in f.message
    assert rules.expiring_lots(LOTS.with_columns(pl.lit(4).alias("on_hand")), FC,
                               date(2024, 1, 1)) == []


def test_expiring_lot_far_away_or_empty_does_not_fire():
    assert rules.expiring_lots(LOTS, FC, date(2023, 12, 1), days=14) == []
    assert rules.expiring_lots(LOTS.with_columns(pl.lit(0).alias("on_hand")), FC,
                               date(2024, 1, 1)) == []
