"""Planner overrides as data in the pipeline: each changes the plan and is named in the reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import polars as pl
import pytest
from test_sourcing import inputs

from stockpilot.planning.invariants import InvalidPlanInput
from stockpilot.planning.pipeline import OVERRIDES_SCHEMA, PlanOptions, build_plan

AS_OF = date(2024, 4, 30)  # the day after the fixture's history ends


def ov(*rows: dict) -> pl.DataFrame:
    base = {"start": None, "end": None, "author": "ann", "expires": None, "note": None}
    return pl.DataFrame([{**base, **r} for r in rows], schema=dict(OVERRIDES_SCHEMA))


def plan_of(overrides: pl.DataFrame | None = None, **kw) -> dict[str, dict]:
    inp = inputs(dc_on_hand=0, **kw)
    if overrides is not None:
        inp = replace(inp, overrides=overrides)
    plan = build_plan(inp, PlanOptions(as_of=AS_OF))
    return {r["unique_id"]: r for r in plan.iter_rows(named=True)}


def test_fixture_day():
    assert inputs().history["ds"].max() + timedelta(days=1) == AS_OF


def test_service_level_override_raises_the_level_and_is_named():
    base = plan_of()["A@S1"]
    got = plan_of(ov({"unique_id": "A@S1", "kind": "service_level", "value": 0.999,
                      "expires": date(2024, 6, 1), "note": "launch"}))["A@S1"]
    assert got["service_level"] == 0.999
    assert got["order_up_to"] >= base["order_up_to"]
    assert "overrides: service level 99.9% (by ann, expires 2024-06-01, launch)" in got["reason"]


def test_an_expired_override_changes_nothing():
    base = plan_of()["A@S1"]
    got = plan_of(ov({"unique_id": "A@S1", "kind": "order_up_to", "value": 500,
                      "expires": AS_OF - timedelta(days=1)}))["A@S1"]
    assert got["order_up_to"] == base["order_up_to"] and "overrides" not in got["reason"]


def test_fixed_order_up_to_and_min_max():
    got = plan_of(ov({"unique_id": "A@S1", "kind": "order_up_to", "value": 500}))["A@S1"]
    assert got["order_up_to"] == 500 and got["order_qty"] == 500
    assert got["safety_stock"] == round(500 - got["mean"])
    assert "order-up-to fixed at 500 (by ann)" in got["reason"]
    # (min, max): position 30 above min 20 → no order; at 10 below → up to max 300
    mm = ov({"unique_id": "A@S1", "kind": "min", "value": 20},
            {"unique_id": "A@S1", "kind": "max", "value": 300})
    wait = plan_of(mm, store_on_hand=30)["A@S1"]
    assert wait["reorder_point"] == 20 and wait["order_up_to"] == 300
    assert wait["order_qty"] == 0
    go = plan_of(mm, store_on_hand=10)["A@S1"]
    assert go["order_qty"] == 290 and "min 20 (by ann); max 300 (by ann)" in go["reason"]


def test_a_fixed_level_below_mean_demand_is_raised_and_said():
    got = plan_of(ov({"unique_id": "A@S1", "kind": "order_up_to", "value": 10}))["A@S1"]
    assert got["order_up_to"] == 70  # 5/day over 14 days
    assert "the fixed level 10 is below the mean demand, raised to 70" in got["reason"]


def test_forecast_adjustments_scale_or_shift_the_protection_window():
    base = plan_of()["A@S1"]
    # × 2 on 7 of the 14 days → the mean over the window × 1.5
    half = ov({"unique_id": "A@S1", "kind": "forecast_factor", "value": 2.0, "start": AS_OF,
               "end": AS_OF + timedelta(days=6)})
    got = plan_of(half)["A@S1"]
    assert got["mean"] == pytest.approx(base["mean"] * 1.5)
    assert f"forecast × 2 from {AS_OF} to {AS_OF + timedelta(days=6)}" in got["reason"]
    # +100 units over 20 days, 14 of them in the window → +70
    units = ov({"unique_id": "A@S1", "kind": "forecast_units", "value": 100, "start": AS_OF,
                "end": AS_OF + timedelta(days=19)})
    got = plan_of(units)["A@S1"]
    assert got["mean"] == pytest.approx(base["mean"] + 70)
    assert got["order_up_to"] >= base["order_up_to"] + 70
    # a promotion after the window moves nothing
    later = ov({"unique_id": "A@S1", "kind": "forecast_units", "value": 100,
                "start": AS_OF + timedelta(days=30), "end": AS_OF + timedelta(days=40)})
    assert plan_of(later)["A@S1"]["mean"] == pytest.approx(base["mean"])


@pytest.mark.parametrize(("row", "message"), [
    ({"unique_id": "ZZ@S1", "kind": "order_up_to", "value": 5},
     r"SKU 'ZZ' at 'S1': override for a SKU-location that is not planned"),
    ({"unique_id": "A@S1", "kind": "service_level", "value": 1.5},
     r"SKU 'A' at 'S1': service level 1.5"),
    ({"unique_id": "A@S1", "kind": "order_up_to", "value": float("nan")},
     r"SKU 'A' at 'S1': override value is missing"),
    ({"unique_id": "A@S1", "kind": "forecast_factor", "value": 2.0},
     r"SKU 'A' at 'S1': forecast_factor needs a date range"),
])
def test_bad_overrides_are_named(row, message):
    with pytest.raises(InvalidPlanInput, match=message):
        plan_of(ov(row))


def test_min_above_max_is_rejected():
    with pytest.raises(InvalidPlanInput, match=r"'A' at 'S2': min 50 above max 40"):
        plan_of(ov({"unique_id": "A@S2", "kind": "min", "value": 50},
                   {"unique_id": "A@S2", "kind": "max", "value": 40}))
