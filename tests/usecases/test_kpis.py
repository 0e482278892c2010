"""One definition of each stock KPI: statuses, counts, and agreement with the alert rules."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from stockpilot.alerts import rules
from stockpilot.usecases import kpis

DAY1 = date(2024, 7, 1)


def _positions() -> pl.DataFrame:
    return pl.DataFrame({"sku": ["out", "soon", "low", "fat", "fine", "slow"],
                         "location": ["W"] * 6,
                         "available": [0, 5, 40, 900, 60, 30],
                         "on_order": [0, 0, 0, 0, 0, 0], "in_transit": [0, 0, 0, 0, 0, 0]})


def _plan() -> pl.DataFrame:
    return pl.DataFrame({"unique_id": [f"{s}@W" for s in ("out", "soon", "low", "fat", "fine",
                                                          "slow")],
                         "lead_time_days": [7] * 6, "reorder_point": [50] * 6,
                         "order_up_to": [100] * 6})


def _forecast() -> pl.DataFrame:
    per_day = {"out": 2.0, "soon": 2.0, "low": 2.0, "fat": 2.0, "fine": 2.0, "slow": 0.1}
    return pl.DataFrame([{"unique_id": f"{s}@W", "ds": DAY1 + timedelta(days=d), "mean": m}
                         for s, m in per_day.items() for d in range(14)])


def _classified() -> pl.DataFrame:
    pos, plan, fc = _positions(), _plan(), _forecast()
    outs = kpis.projected_stockouts(pos, fc, plan, None, DAY1)
    df = (kpis.with_uid(pos).join(plan.join(kpis.lead_days(plan), on="unique_id"),
                                  on="unique_id")
          .join(kpis.forecast_per_day(fc), on="unique_id"))
    return kpis.classify(df, outs)


def test_each_row_gets_the_first_status_that_holds():
    got = dict(_classified().select("sku", "status").iter_rows())
    assert got == {"out": "out", "soon": "stockout", "low": "reorder", "fat": "overstock",
                   "fine": "ok", "slow": "reorder"}


def test_days_of_cover_slow_movers_and_urgency_order():
    df = _classified().sort("urgency", "cover_gap")
    assert df["sku"].to_list()[:3] == ["out", "soon", "low"]
    cover = dict(df.select("sku", "days_of_cover").iter_rows())
    assert cover["soon"] == 2.5 and cover["out"] == 0.0 and cover["fat"] == 450.0
    assert set(df.filter(pl.col("slow"))["sku"]) == {"fat", "slow"}


def test_counts_count_every_definition_a_row_meets():
    # "out" is also below its reorder point and runs out: it counts in all three, as the
    # alert rules raise all three for it
    assert kpis.counts(_classified()) == {"out": 1, "stockout": 2, "reorder": 4,
                                          "overstock": 1, "ok": 1}


def test_the_counts_are_the_alert_rules_findings():
    pos, plan, fc = _positions(), _plan(), _forecast()
    low = {f.sku for f in rules.low_stock(pos, plan)}
    gone = {f.sku for f in rules.projected_stockout(pos, fc, plan, None, DAY1)}
    df = _classified()
    assert low == set(df.filter(pl.col("is_reorder"))["sku"])
    assert gone == set(df.filter(pl.col("is_stockout"))["sku"]) == {"out", "soon"}


def test_an_arrival_before_the_stockout_clears_the_projected_stockout():
    arrivals = pl.DataFrame({"unique_id": ["soon@W"], "expected_at": [DAY1 + timedelta(days=1)],
                             "qty": [100]})
    outs = kpis.projected_stockouts(_positions(), _forecast(), _plan(), arrivals, DAY1)
    assert set(outs["sku"]) == {"out"}
