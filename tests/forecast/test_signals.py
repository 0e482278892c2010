"""The shop's own signals: import formats, covariates, and a promotion moving the forecast."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from stockpilot.errors import ImportRejected
from stockpilot.forecast.pipeline import load_signals, run_forecast
from stockpilot.forecast.signals import Signals, covariates, daily_prices
from stockpilot.ingest.signals import import_signal, read_signal
from stockpilot.store.history import HistoryStore

END = date(2024, 6, 30)
H = 28


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_promotions_file_is_validated_whole(tmp_path):
    bad = _csv(tmp_path, "p.csv", "sku,category,location,start,end,type,discount\n"
               "A,,S1,2024-01-05,2024-01-01,flyer,0.2\n"
               "A,FOOD,,2024-01-01,2024-01-02,,\n"
               ",,,2024-01-01,2024-01-02,,\n"
               "B,,,2024-01-01,2024-01-02,,1.5\n"
               "C,,,2024-13-01,2024-01-02,,\n")
    with pytest.raises(ImportRejected) as err:
        read_signal("promotions", bad)
    got = {(p.row, p.field) for p in err.value.problems}
    assert got == {(2, "end"), (3, "sku+category"), (4, "sku+category"), (5, "discount"),
                   (6, "start")}


def test_reimport_merges_by_key_newest_wins(tmp_path):
    history = HistoryStore(tmp_path / "h")
    first = _csv(tmp_path, "e1.csv", "date,name,type,location\n2024-12-25,Christmas,Holiday,\n"
                 "2024-07-04,Fair,cultural,S1\n")
    second = _csv(tmp_path, "e2.csv", "date,name,type,location\n2024-12-25,Christmas,national,\n")
    import_signal(history, "events", first)
    report = import_signal(history, "events", second)
    events = history.read("signals", "events").sort("date")
    assert report.rows == 1 and report.total == 2
    assert events["type"].to_list() == ["cultural", "national"]


def test_covariates_match_location_category_and_open_price_ranges():
    signals = Signals(
        events=pl.DataFrame({"date": [date(2024, 1, 3), date(2024, 1, 5)],
                             "name": ["fair", "holiday"], "type": ["cultural", "holiday"],
                             "location": ["S1", None]}),
        promotions=pl.DataFrame({"sku": [None, "B"], "category": ["FOOD", None],
                                 "location": [None, "S2"], "start": [date(2024, 1, 2)] * 2,
                                 "end": [date(2024, 1, 3), date(2024, 1, 4)],
                                 "type": ["flyer", None], "discount": [0.25, None]}),
        prices=pl.DataFrame({"sku": ["A", "A", "A"], "location": [None, None, "S2"],
                             "valid_from": [date(2024, 1, 1), date(2024, 1, 4),
                                            date(2024, 1, 1)],
                             "valid_to": [None, None, None], "price": [2.0, 1.0, 5.0]}),
        categories=pl.DataFrame({"sku": ["A"], "category": ["FOOD"]}))
    cov = covariates(["A@S1", "A@S2", "B@S2"], date(2024, 1, 1), date(2024, 1, 6), signals)
    assert cov.columns == ["unique_id", "ds", "event", "event_cultural", "event_holiday",
                           "promo", "promo_discount", "sell_price", "price_rel_max",
                           "price_change"]

    def col(uid: str, name: str) -> list:
        return cov.filter(pl.col("unique_id") == uid)[name].to_list()

    assert col("A@S1", "event") == [0, 0, 1, 0, 1, 0]  # the fair is at S1 only
    assert col("A@S2", "event") == [0, 0, 0, 0, 1, 0]
    assert col("A@S2", "promo") == [0, 1, 1, 0, 0, 0]  # by category, every location
    assert col("A@S1", "promo_discount") == [0, 0.25, 0.25, 0, 0, 0]
    assert col("B@S2", "promo") == [0, 1, 1, 1, 0, 0]
    assert col("A@S1", "sell_price") == [2, 2, 2, 1, 1, 1]  # open range ends at next price
    assert col("A@S2", "sell_price") == [5.0] * 6  # the location's own price wins
    assert col("B@S2", "sell_price") == [0.0] * 6 and col("B@S2", "price_rel_max") == [1.0] * 6


def test_daily_prices_keep_an_explicit_end():
    p = pl.DataFrame({"sku": ["A"], "location": ["S1"], "valid_from": [date(2024, 1, 1)],
                      "valid_to": [date(2024, 1, 2)], "price": [3.0]})
    got = daily_prices(p, pl.DataFrame({"unique_id": ["A@S1"], "sku": ["A"],
                                        "location": ["S1"]}), date(2024, 1, 9))
    assert got.height == 2


def _history(tmp_path: Path) -> tuple[HistoryStore, Path]:
    """Six series, 500 days; past promotions triple the day's demand (seeded)."""
    rng = np.random.default_rng(7)
    days = pl.date_range(END - timedelta(days=499), END, "1d", eager=True)
    rows, promos = [], []
    for sku in "ABCDEF":
        starts = rng.choice(np.arange(20, 480, 10), size=18, replace=False)
        on = np.zeros(len(days), bool)
        for s in starts:
            on[s:s + 4] = True
            promos.append(f"{sku},,S1,{days[int(s)]},{days[int(s) + 3]},flyer,0.3")
        base = 6 + 2 * (np.arange(len(days)) % 7 == 5)
        y = rng.poisson(base * np.where(on, 3.0, 1.0))
        rows.append(pl.DataFrame({"sku": sku, "location": "S1", "date": days,
                                  "units": y.astype(np.int32)}))
    history = HistoryStore(tmp_path / "history")
    history.write_daily("import", pl.concat(rows))
    past = _csv(tmp_path, "promos.csv", "sku,category,location,start,end,type,discount\n"
                + "\n".join(promos) + "\n")
    return history, past


def test_a_promotion_moves_the_forecast_on_its_dates_only(tmp_path):
    history, past = _history(tmp_path)
    import_signal(history, "promotions", past)
    before = run_forecast(history, horizon=H, models=["LightGBMDirect"], n_windows=1)
    assert any("promo" in n for n in before.notes)
    base = history.read("forecasts", "latest").sort("unique_id", "ds")
    first, last = END + timedelta(days=10), END + timedelta(days=13)
    future = _csv(tmp_path, "next.csv", "sku,category,location,start,end,type,discount\n"
                  f"A,,S1,{first},{last},flyer,0.3\n")
    import_signal(history, "promotions", future)
    run_forecast(history, horizon=H, models=["LightGBMDirect"], n_windows=1)
    moved = history.read("forecasts", "latest").sort("unique_id", "ds")
    on = (pl.col("unique_id") == "A@S1") & pl.col("ds").is_between(first, last)
    delta = moved["mean"] - base["mean"]
    on_days = delta.filter(base.select(on).to_series())
    assert (on_days > 1.0).all()  # about twice the usual 6–8 units more
    assert delta.filter(~base.select(on).to_series()).abs().max() == 0.0


def test_load_signals_reads_m5_categories(tmp_path):
    history = HistoryStore(tmp_path)
    history.write("series", "m5", pl.DataFrame({"id": ["x"], "sku": ["FOODS_3_001"],
                                                "location": ["TX_3"], "dept_id": ["FOODS_3"],
                                                "cat_id": ["FOODS"], "state_id": ["TX"]}))
    got = load_signals(history)
    assert got.empty() and set(got.categories["category"]) == {"FOODS_3", "FOODS"}
