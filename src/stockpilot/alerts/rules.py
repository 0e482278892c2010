"""Alert rules over current positions and the latest plan (pure: frames in, findings out).

* ``low_stock`` — available ≤ the reorder point from planning;
* ``projected_stockout`` — days of cover (available ÷ mean forecast daily demand) shorter
  than the lead time, i.e. stock runs out before the next possible receipt;
* ``count_discrepancy`` — a count whose variance exceeds the tolerance (units and share);
* ``expiring_lot`` — a lot expiring within N days holding more than the forecast will sell
  before it expires.

The statistical rules (demand anomaly, phantom stock) live in :mod:`stockpilot.alerts.anomaly`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Finding:
    """One condition a rule found for one SKU-location."""

    rule: str
    sku: str
    location: str
    severity: str
    message: str


def low_stock(positions: pl.DataFrame, plan: pl.DataFrame) -> list[Finding]:
    """Available at or below the reorder point (``positions``: sku, location, available)."""
    df = _with_uid(positions).join(plan.select("unique_id", "reorder_point"), on="unique_id")
    hit = df.filter(pl.col("available") <= pl.col("reorder_point"))
    return [Finding("low_stock", r["sku"], r["location"], "warning",
                    f"available {r['available']} ≤ reorder point {r['reorder_point']}")
            for r in hit.iter_rows(named=True)]


def projected_stockout(positions: pl.DataFrame, forecast: pl.DataFrame, plan: pl.DataFrame
                       ) -> list[Finding]:
    """Days of cover below the lead time.

    ``forecast``: unique_id, mean (daily); ``plan``: unique_id and lead_time_days, or
    protection_days (lead time + a 7-day review).
    """
    daily = forecast.group_by("unique_id").agg(pl.col("mean").mean().alias("daily"))
    # plans carry protection_days = lead time + review (7 days unless a plan says otherwise)
    lead_col = (pl.col("lead_time_days") if "lead_time_days" in plan.columns
                else pl.col("protection_days") - 7)
    lead = plan.select("unique_id", lead_col.clip(lower_bound=1).alias("lead_days"))
    df = _with_uid(positions).join(daily, on="unique_id").join(lead, on="unique_id")
    df = df.with_columns((pl.col("available").clip(lower_bound=0) / pl.col("daily"))
                         .alias("cover")).filter((pl.col("daily") > 0) &
                                                 (pl.col("cover") < pl.col("lead_days")))
    return [Finding("projected_stockout", r["sku"], r["location"], "critical",
                    f"{r['cover']:.1f} days of cover < lead time {r['lead_days']} d "
                    f"(forecast {r['daily']:.1f}/day)") for r in df.iter_rows(named=True)]


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
        uid = f"{r['sku']}@{r['location']}"
        sell = forecast.filter((pl.col("unique_id") == uid) & (pl.col("ds") < r["expiry"]))
        expected = float(sell["mean"].sum()) if sell.height else 0.0
        if r["on_hand"] > expected:
            out.append(Finding("expiring_lot", r["sku"], r["location"], "warning",
                               f"lot {r['lot_code']} expires {r['expiry']}: {r['on_hand']} on "
                               f"hand, forecast sells {expected:.0f} before then"))
    return out


def _with_uid(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns((pl.col("sku") + "@" + pl.col("location")).alias("unique_id"))
