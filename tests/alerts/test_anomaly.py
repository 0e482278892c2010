"""Demand anomaly and phantom stock rules: firing and not firing, on hand-built frames."""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl

from stockpilot.alerts.anomaly import (
    days_for_implausible_quiet,
    demand_anomaly,
    modified_z,
    phantom_stock,
)

TODAY = date(2024, 3, 1)
EMPTY_HIST = pl.DataFrame(schema={"sku": pl.Utf8, "location": pl.Utf8, "date": pl.Date,
                                  "units": pl.Int32})


def _band(lo: float, hi: float, uid: str = "A@W", day: date = TODAY) -> pl.DataFrame:
    return pl.DataFrame({"unique_id": [uid], "ds": [day], "mean": [(lo + hi) / 2],
                         "q0.005": [lo], "q0.995": [hi]})


def _today(units: int, sku: str = "A") -> pl.DataFrame:
    return pl.DataFrame({"sku": [sku], "location": ["W"], "units": [units]})


def test_demand_inside_the_forecast_band_does_not_fire():
    assert demand_anomaly(_today(9), _band(2, 15), EMPTY_HIST, TODAY) == []


def test_demand_above_or_below_the_band_fires():
    [hi] = demand_anomaly(_today(40), _band(2, 15), EMPTY_HIST, TODAY)
    assert (hi.rule, hi.sku, hi.location) == ("demand_anomaly", "A", "W")
    assert "outside the forecast's 99% band" in hi.message
    # no sale at all (no row today) while the band says at least 2 is an anomaly too
    empty = pl.DataFrame(schema={"sku": pl.Utf8, "location": pl.Utf8, "units": pl.Int64})
    [lo] = demand_anomaly(empty, _band(2, 15), EMPTY_HIST, TODAY)
    assert "demand today 0" in lo.message


def test_band_for_another_day_is_not_used():
    assert demand_anomaly(_today(40), _band(2, 15, day=TODAY + timedelta(days=1)),
                          EMPTY_HIST, TODAY) == []


def _history(values: list[int], sku: str = "A") -> pl.DataFrame:
    days = [TODAY - timedelta(days=len(values) - i) for i in range(len(values))]
    return pl.DataFrame({"sku": [sku] * len(values), "location": ["W"] * len(values),
                         "date": days, "units": values}).filter(pl.col("units") != 0)


def test_robust_z_without_a_forecast():
    hist = _history([5, 6, 4, 5, 7, 5, 6, 4, 5, 6, 5, 4, 6, 5, 5, 6, 4, 5, 6, 5, 5])
    assert demand_anomaly(_today(7), None, hist, TODAY) == []      # ordinary day
    [f] = demand_anomaly(_today(30), None, hist, TODAY)            # spike
    assert "robust z" in f.message and "median 5" in f.message


def test_robust_z_needs_enough_history_and_ignores_series_with_a_band():
    short = _history([5, 6, 4, 5, 6])
    assert demand_anomaly(_today(30), None, short, TODAY) == []
    hist = _history([5] * 20)
    # the band (which says 30 is fine) wins over the z-score for a series that has one
    assert demand_anomaly(_today(30), _band(0, 40), hist, TODAY) == []


def test_modified_z_on_intermittent_demand_uses_a_floor():
    # 26 zero days and two sales of 1: MAD is 0; one more unit is not an outlier
    series = [0] * 26 + [1, 1]
    assert abs(modified_z(1, series)) < 3.5
    assert modified_z(8, series) > 3.5
    assert math.isclose(modified_z(5, [5] * 10), 0.0)


def _quiet(days: int, on_hand: int = 12) -> pl.DataFrame:
    return pl.DataFrame({"sku": ["A"], "location": ["W"], "on_hand": [on_hand],
                         "quiet_days": [days]})


RATE = pl.DataFrame({"unique_id": ["A@W"] * 2, "mean": [1.5, 2.5]})  # λ = 2 units/day


def test_phantom_stock_fires_when_silence_is_implausible():
    # P(no sale in n days) = exp(-2 n): 2 days 1.8%, 3 days 0.25% (< 1%)
    assert days_for_implausible_quiet(2.0) == 3
    assert phantom_stock(_quiet(2), RATE) == []
    [f] = phantom_stock(_quiet(3), RATE)
    assert f.rule == "phantom_stock" and "no sale for 3 days" in f.message


def test_phantom_stock_needs_stock_and_a_positive_rate():
    assert phantom_stock(_quiet(30, on_hand=0), RATE) == []
    zero = pl.DataFrame({"unique_id": ["A@W"], "mean": [0.0]})
    assert phantom_stock(_quiet(300), zero) == []
    slow = pl.DataFrame({"unique_id": ["A@W"], "mean": [0.05]})  # one sale in 20 days
    assert phantom_stock(_quiet(60), slow) == []    # exp(-3) = 5%
    assert len(phantom_stock(_quiet(93), slow)) == 1  # exp(-4.65) < 1%
