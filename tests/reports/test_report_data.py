"""The report's sections on a hand-checked workspace, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from report_fixture import AS_OF, make

from stockpilot.store.uow import reading
from stockpilot.usecases import reports
from stockpilot.usecases.actor import SYSTEM, Actor


@pytest.fixture
def data(engine, tmp_path):
    hist = make(engine, tmp_path)
    with reading(engine) as uow:
        return reports.gather(uow, hist, SYSTEM)


def _week(df, day):
    return df.filter(df["week_end"] == day).row(0, named=True)


def _kpis_and_stock_flow_by_week(data):
    assert data.as_of == AS_OF
    now, before = _week(data.kpis, AS_OF), _week(data.kpis, date(2024, 6, 23))
    assert now["stock_value"] == pytest.approx(240.0)
    # at the end of 06-23: A@W 31, A@S 40, B@W 30 → 71 × 2.5 + 120
    assert before["stock_value"] == pytest.approx(297.5)
    assert _week(data.kpis, date(2024, 6, 16))["stock_value"] == pytest.approx(0.0)
    # 06-29 is censored at A@W: demand raised above sales that week, not before
    assert now["fill_rate"] < 1.0 and before["fill_rate"] == pytest.approx(1.0)
    # 4 A-units a day sold in the trailing 28 days (A@W's censored day sold 0) at 2.5
    cogs_day = (8 * 28 - 4) * 2.5 / 28
    assert now["days_of_cover"] == pytest.approx(240 / cogs_day)
    assert now["turns"] == pytest.approx(cogs_day * 365 / 240)
    flow = {r["week_end"]: r for r in data.flow.iter_rows(named=True)}
    assert flow[date(2024, 6, 23)] == {"week_end": date(2024, 6, 23), "receipts": 110,
                                       "sales": 9, "adjustments": 0, "write_offs": 0}
    assert flow[AS_OF] == {"week_end": AS_OF, "receipts": 0, "sales": 15,
                           "adjustments": -3, "write_offs": 5}


def _value_by_class_excess_slow_and_waste(data):
    by = {r["abc"]: r["stock_value"] for r in data.value_by_class.iter_rows(named=True)}
    assert by == pytest.approx({"A": 45.0, "B": 75.0, "C": 120.0})
    assert data.excess.select("sku", "location", "excess_units", "excess_value").rows() == [
        ("B", "W", 10, 40.0), ("A", "W", 8, 20.0)]
    assert data.slow.select("sku", "location", "last_sale").rows() == [
        ("B", "W", date(2024, 4, 1))]
    # lot L1: 30 units, forecast 2 a day for 07-01 … 07-10 sells 20; 10 wasted at 4.0
    [lot] = data.expiring.iter_rows(named=True)
    assert (lot["lot_code"], lot["expected_sold"], lot["expected_waste"],
            lot["waste_value"]) == ("L1", 20.0, 10.0, 40.0)


def _stockouts_accuracy_counts_and_suggestions(data):
    out = {(r["sku"], r["location"]): r["stockout_date"]
           for r in data.stockouts.iter_rows(named=True)}
    assert out[("A", "W")] < out[("A", "S")]  # 18 units last less than 30 at 4 a day
    acc = {r["abc"]: r for r in data.accuracy.iter_rows(named=True)}
    assert "backtest" in data.accuracy_source
    assert acc["A"]["wape"] == pytest.approx(0.2) and acc["A"]["bias"] == pytest.approx(-0.2)
    assert acc["B"]["wape"] == pytest.approx(0.3) and acc["B"]["bias"] == pytest.approx(0.3)
    assert acc["C"]["wape"] == pytest.approx(0.0)
    [count] = data.counts.iter_rows(named=True)
    assert (count["sku"], count["location"], count["variance"], count["variance_value"]) == (
        "A", "S", -5, -12.5)
    assert data.suggestions.select("sku", "location", "order_qty").rows() == [("A", "S", 50)]
    assert data.suggestions["reason"][0] == "A@S: order-up-to 80"


def test_every_section_by_hand(data):
    """One workspace build per backend checks every section (a build costs ~1 s)."""
    _kpis_and_stock_flow_by_week(data)
    _value_by_class_excess_slow_and_waste(data)
    _stockouts_accuracy_counts_and_suggestions(data)


def test_a_location_limited_report_counts_only_its_locations(engine, tmp_path):
    hist = make(engine, tmp_path)
    with reading(engine) as uow:
        shop = reports.gather(uow, hist, Actor("viewer", frozenset({"S"})))
    assert _week(shop.kpis, AS_OF)["stock_value"] == pytest.approx(75.0)
    for name, df in shop.sections().items():
        if "location" in df.columns:
            assert set(df["location"]) <= {"S"}, name
    assert shop.flow["receipts"].sum() == 40 and shop.excess.is_empty()
    assert shop.expiring.is_empty() and shop.slow.is_empty()
    assert set(shop.accuracy["abc"]) == {"B"} and shop.scope == ["S"]


def test_accuracy_of_the_newest_run_against_its_actuals(sqlite_engine, tmp_path):
    import json
    from datetime import timedelta

    import polars as pl

    hist = make(sqlite_engine, tmp_path)
    runs = hist.root / "runs"
    (runs / "r1").mkdir(parents=True)
    (runs / "r1.json").write_text(json.dumps({"run_id": "r1", "created_at": "2024-06-23"}))
    days = [date(2024, 6, 24) + timedelta(days=i) for i in range(7)]  # sold: A 4 a day
    pl.DataFrame([{"unique_id": u, "ds": d, "mean": m} for u, m in
                  (("A@W", 5.0), ("A@S", 5.0), ("B@W", 1.0)) for d in days]).write_parquet(
        runs / "r1" / "forecasts.parquet")
    with reading(sqlite_engine) as uow:
        data = reports.gather(uow, hist, SYSTEM)
    assert data.accuracy_source.startswith("forecast run r1 against the actuals of 2024-06-24")
    acc = {r["abc"]: r for r in data.accuracy.iter_rows(named=True)}
    # A@W (class A) sold 0 on the censored 06-29: actual 24, forecast 35, |errors| 6 + 5
    assert (acc["A"]["actual"], acc["A"]["forecast"]) == (24.0, 35.0)
    assert acc["A"]["wape"] == pytest.approx(11 / 24) and acc["A"]["bias"] == pytest.approx(11 / 24)
    assert acc["B"]["wape"] == pytest.approx(0.25)  # A@S: 28 sold, 35 forecast
    assert acc["C"]["actual"] == 0.0 and acc["C"]["wape"] is None  # B@W sold nothing


def test_an_empty_workspace_still_reports(engine, tmp_path):
    from stockpilot.store.history import HistoryStore

    with reading(engine) as uow:
        empty = reports.gather(uow, HistoryStore(tmp_path / "h"), SYSTEM)
    assert empty.suggestions.is_empty() and empty.stockouts.is_empty()
    assert any("no plan yet" in n for n in empty.notes)
