"""Cell formatting shared by the HTML and PDF writers (the Excel writer keeps raw values)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl

ROWS_SHOWN = 30  # per section in HTML and PDF; the Excel workbook has every row

#: What each section's table means, under its title.
EXPLAIN = {
    "KPIs by week": "Fill rate = sold ÷ demanded (stockout days raised to their baseline); "
                    "turns = trailing-28-day cost of sales, annualised, ÷ stock value; "
                    "days of cover = stock value ÷ cost of sales per day.",
    "Stock flow by week (units)": "Receipts in; sales and write-offs out (positive units); "
                                  "adjustments and counts with their sign.",
    "Projected stockouts": "Available stock run down by the forecast mean, open orders in on "
                           "their expected dates: the first day below zero.",
    "Excess stock": "On hand + on order above the plan's order-up-to level.",
    "Slow movers": "Stock on hand with no sale in 56 days (or never).",
    "Expiring lots and expected waste": "Lots expiring within 60 days; sold first-expired-"
                                        "first-out against the forecast, the rest is waste.",
    "Count discrepancies": "Count events whose counted quantity differed from the book.",
}


def fmt(v: Any) -> str:
    """A cell as text: thousands separators, 2 decimals below 1,000, ISO dates."""
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def text_rows(df: pl.DataFrame, limit: int = ROWS_SHOWN) -> list[list[str]]:
    """The first ``limit`` rows of ``df`` as formatted text cells."""
    return [[fmt(v) for v in row] for row in df.head(limit).iter_rows()]
