"""Alert rules over current positions and the latest plan (pure: frames in, findings out).

* ``low_stock`` — inventory position (available + on order + in transit) ≤ the reorder
  point from planning;
* ``projected_stockout`` — available stock projected day by day (forecast demand out, open
  POs and transfers in on their expected dates) runs out within the lead time, i.e. before
  an order placed today could arrive;
* ``count_discrepancy`` — a count whose variance exceeds the tolerance (units and share);
* ``expiring_lot`` — a lot expiring within N days holding more than the forecast will sell
  before it expires.

The first two count what the overview's KPI cards and the worklists count: their definitions
live in :mod:`stockpilot.usecases.kpis`. The statistical rules (demand anomaly, phantom
stock) live in :mod:`stockpilot.alerts.anomaly`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import polars as pl

from stockpilot.alerts.projection import ARRIVALS_SCHEMA, next_arrivals
from stockpilot.domain.series import SeriesKey, unique_id
from stockpilot.usecases import kpis


@dataclass(frozen=True)
class Finding:
    """One condition a rule found for one SKU-location."""

    rule: str
    sku: str
    location: str
    severity: str
    message: str


def low_stock(positions: pl.DataFrame, plan: pl.DataFrame) -> list[Finding]:
    """Inventory position at or below the reorder point (:func:`kpis.below_reorder_point`).

    ``positions``: sku, location, available, and optionally on_order and in_transit. The
    position is what a reorder policy compares (GLOSSARY): available + on order + in transit,
    so an approved purchase order or a shipped transfer answers the alert.
    """
    extra: list[str] = [c for c in ("on_order", "in_transit") if c in positions.columns]
    hit = kpis.below_reorder_point(positions, plan)
    return [Finding("low_stock", r["sku"], r["location"], "warning", _low_message(r, extra))
            for r in hit.iter_rows(named=True)]


def _low_message(r: dict[str, object], extra: list[str]) -> str:
    if not extra:
        return f"available {r['available']} ≤ reorder point {r['reorder_point']}"
    parts = " + ".join(f"{c.replace('_', ' ')} {r[c] or 0}" for c in extra)
    return (f"position {r['position']} (available {r['available']} + {parts}) ≤ reorder point "
            f"{r['reorder_point']}")


def projected_stockout(positions: pl.DataFrame, forecast: pl.DataFrame, plan: pl.DataFrame,
                       arrivals: pl.DataFrame | None = None, today: date | None = None
                       ) -> list[Finding]:
    """Stock runs out before an order placed today could arrive (within the lead time).

    Projects available stock day by day (:mod:`stockpilot.alerts.projection`): open POs and
    transfers arrive on their expected dates, the forecast mean is taken each day.

    Args:
        positions: sku, location, available.
        forecast: unique_id, ds, mean (daily).
        plan: unique_id and lead_time_days, or protection_days (lead time + a 7-day review).
        arrivals: unique_id, expected_at, qty (None: nothing is on its way).
        today: day 1 of the projection (default: the forecast's first day).
    """
    if forecast.is_empty():
        return []
    day1: date = today or cast(date, forecast["ds"].min())
    arr = arrivals if arrivals is not None else pl.DataFrame(schema=ARRIVALS_SCHEMA)
    daily = forecast.group_by("unique_id").agg(pl.col("mean").mean().alias("daily"))
    hit = (kpis.projected_stockouts(positions, forecast, plan, arr, day1)
           .join(daily, on="unique_id", how="left")
           .join(next_arrivals(arr, day1), on="unique_id", how="left"))
    return [Finding("projected_stockout", r["sku"], r["location"], "critical",
                    _stockout_message(r)) for r in hit.iter_rows(named=True)]


def _stockout_message(r: dict[str, Any]) -> str:
    text = (f"stock runs out on day {r['stockout_day']} ({r['stockout_ds']}) < lead time "
            f"{r['lead_days']} d: available {r['available']}, forecast {r['daily']:.1f}/day")
    if r["next_day"] is None:
        return text + "; nothing on order or in transit"
    when = "too late" if r["next_day"] > r["stockout_day"] else "not enough"
    return (text + f"; next arrival {r['next_qty']} on day {r['next_day']} ({r['next_ds']}): "
            + when)


def count_discrepancy(counts: pl.DataFrame, units: int = 5, share: float = 0.1
                      ) -> list[Finding]:
    """Counts (sku, location, variance, counted) off by more than ``units`` and ``share``."""
    hit = counts.filter((pl.col("variance").abs() > units) &
                        (pl.col("variance").abs() > share * (pl.col("counted") -
                                                             pl.col("variance")).abs()))
    return [Finding("count_discrepancy", r["sku"], r["location"], "warning",
                    f"count found {r['counted']}, books said {r['counted'] - r['variance']} "
                    f"(variance {r['variance']:+d})") for r in hit.iter_rows(named=True)]


def expiring_lots(lots: pl.DataFrame, forecast: pl.DataFrame, today: object, days: int = 14
                  ) -> list[Finding]:
    """Lots expiring within ``days`` that the forecast will not sell in time.

    ``lots`` has sku, location, lot_code, expiry, on_hand; oldest lots sell first.
    """
    soon = lots.filter((pl.col("expiry") <= pl.lit(today) + pl.duration(days=days)) &
                       (pl.col("on_hand") > 0))
    out = []
    for r in soon.iter_rows(named=True):
        uid = str(SeriesKey(r["sku"], r["location"]))
        sell = forecast.filter((pl.col("unique_id") == uid) & (pl.col("ds") < r["expiry"]))
        expected = float(sell["mean"].sum()) if sell.height else 0.0
        if r["on_hand"] > expected:
            out.append(Finding("expiring_lot", r["sku"], r["location"], "warning",
                               f"lot {r['lot_code']} expires {r['expiry']}: {r['on_hand']} on "
                               f"hand, forecast sells {expected:.0f} before then"))
    return out


def _with_uid(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(unique_id())
