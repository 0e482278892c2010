"""The reason of each plan line: the arithmetic a planner (and a test) can redo.

"mean 18.1/d × 14 d = 253; 98% quantile 2,883 (compound-poisson) → safety stock 2,630;
order-up-to 2,883, reorder point 1,200 (class CZ); on hand 3 (500 expired), on order 0,
in transit 0, reserved 0 → position 3; need 2,880, rounded to pack 5 and MOQ 10 → order 2,880"
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

NEEDED = ("mean", "protection_days", "service_level", "quantile_level", "demand_quantile",
          "method",
          "safety_stock", "order_up_to", "reorder_point", "klass", "on_hand", "expired",
          "quarantined", "on_order", "in_transit", "reserved", "inventory_position", "need",
          "pack_size", "moq", "order_qty", "max_order_qty", "shelf_life_days",
          "expected_waste_units", "flags", "largest_past_demand", "guard_factor")


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _lines(plan: pl.DataFrame) -> Iterator[str]:
    cols = {c: plan[c].to_list() for c in NEEDED}
    for i in range(plan.height):
        yield _one({c: v[i] for c, v in cols.items()})


def _one(r: dict[str, Any]) -> str:
    days = int(r["protection_days"])
    mean = float(r["mean"])
    text = (f"mean {mean / max(days, 1):,.1f}/d × {days} d = {_n(mean)}; "
            + _level(r) + f" quantile {_n(r['demand_quantile'])} ({r['method']})"
            f" → safety stock {_n(r['safety_stock'])}; order-up-to {_n(r['order_up_to'])}, "
            f"reorder point {_n(r['reorder_point'])} (class {r['klass']}); on hand "
            f"{_n(r['on_hand'])}")
    gone = [f"{_n(r[k])} {k}" for k in ("expired", "quarantined") if r[k]]
    text += (f" ({', '.join(gone)} not counted)" if gone else "") + (
        f", on order {_n(r['on_order'])}, in transit {_n(r['in_transit'])}, reserved "
        f"{_n(r['reserved'])} → position {_n(r['inventory_position'])}")
    if r["need"] <= 0:
        text += "; position covers it → no order"
    else:
        text += (f"; need {_n(r['need'])}, rounded to pack {r['pack_size']} and MOQ {r['moq']}"
                 + _cap(r) + f" → order {_n(r['order_qty'])}")
    if r["flags"]:
        text += (f"; CHECK: order-up-to {_n(r['order_up_to'])} is above {r['guard_factor']:g}"
                 f" × the largest {days}-day demand of the past year "
                 f"({_n(r['largest_past_demand'])}), from {r['method']}")
    return text


def _level(r: dict[str, Any]) -> str:
    target, level = r["service_level"] * 100, r["quantile_level"] * 100
    if abs(target - level) < 0.05:
        return f"{target:g}%"
    return f"{target:g}% service (calibrated) → {level:.1f}%"


def _cap(r: dict[str, Any]) -> str:
    if r["shelf_life_days"] is None or r["max_order_qty"] is None:
        return ""
    waste = r["expected_waste_units"] or 0.0
    return (f", capped at {_n(r['max_order_qty'])} that mean sales use within its "
            f"{r['shelf_life_days']} d shelf life (expected waste {waste:,.1f}), then down to "
            "whole packs, 0 below the MOQ")


def reasons_of(plan: pl.DataFrame) -> pl.Series:
    """The ``reason`` column for ``plan`` (one string per row)."""
    return pl.Series("reason", list(_lines(plan)), dtype=pl.Utf8)
