"""Projected stock with open POs on their expected dates (issue 13, item 7).

Before, alerts and the chart ignored open purchase orders or added them on day 0, so a PO
arriving in 21 days hid a stockout on day 7.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from stockpilot.alerts import rules
from stockpilot.alerts.projection import first_stockouts, project

TODAY = date(2024, 6, 1)
POS = pl.DataFrame({"sku": ["A"], "location": ["W"], "available": [12], "on_order": [100]})
PLAN = pl.DataFrame({"unique_id": ["A@W"], "reorder_point": [40], "lead_time_days": [10]})
FC = pl.DataFrame({"unique_id": "A@W", "ds": [TODAY + timedelta(days=i) for i in range(28)],
                   "mean": 2.0})


def arriving(days: int, qty: int = 100) -> pl.DataFrame:
    return pl.DataFrame({"unique_id": ["A@W"], "expected_at": [TODAY + timedelta(days=days - 1)],
                         "qty": [qty]})


def test_a_po_arriving_in_21_days_does_not_hide_a_stockout_on_day_7():
    proj = project(POS.select(pl.lit("A@W").alias("unique_id"), "available"), FC,
                   arriving(21), TODAY, 28)
    [row] = first_stockouts(proj).iter_rows(named=True)
    assert row["stockout_day"] == 7  # 12 units at 2/day: −2 at the end of day 7
    by_day = dict(zip(proj["day"], proj["projected"], strict=True))
    assert by_day[20] == 12 - 40 and by_day[21] == 12 - 42 + 100  # arrives on its own day
    [f] = rules.projected_stockout(POS, FC, PLAN, arriving(21), TODAY)
    assert "runs out on day 7 (2024-06-07)" in f.message
    assert "next arrival 100 on day 21 (2024-06-21): too late" in f.message


def test_a_po_arriving_before_the_stockout_prevents_the_alert():
    assert rules.projected_stockout(POS, FC, PLAN, arriving(5), TODAY) == []
    # not enough: 4 units on day 5 only push the stockout to day 9, within the lead time
    [f] = rules.projected_stockout(POS, FC, PLAN, arriving(5, qty=4), TODAY)
    assert "runs out on day 9" in f.message and "not enough" in f.message


def test_an_overdue_po_counts_on_day_one_not_never():
    late = arriving(-3)
    assert rules.projected_stockout(POS, FC, PLAN, late, TODAY) == []


def test_low_stock_compares_the_position_so_an_approved_order_answers_it():
    no_order = POS.with_columns(pl.lit(0).alias("on_order"))
    [f] = rules.low_stock(no_order, PLAN)
    assert f.message == "position 12 (available 12 + on order 0) ≤ reorder point 40"
    assert rules.low_stock(POS, PLAN) == []  # 12 + 100 on order > 40
