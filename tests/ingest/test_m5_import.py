"""M5 import on a real slice of the shared files: catalogue, prices, calendar, history."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from stockpilot.errors import ImportRejected
from stockpilot.ingest import m5
from stockpilot.ingest.m5_import import import_m5
from stockpilot.store import schema as t
from stockpilot.store.history import HistoryStore


@pytest.fixture(scope="module")
def m5_slice(shared_data, tmp_path_factory) -> Path:
    """A small M5 directory: full calendar, 12 real HOBBIES_2 series, their prices."""
    src = shared_data / "m5"
    out = tmp_path_factory.mktemp("m5")
    (out / "daily").mkdir()
    (out / "calendar.csv.gz").write_bytes((src / "calendar.csv.gz").read_bytes())
    wide = pl.read_csv(src / "daily" / "sales_CA_3_HOBBIES_2.csv.gz").head(12)
    with gzip.open(out / "daily" / "sales_small.csv.gz", "wb") as fh:
        wide.write_csv(fh)
    prices = (pl.scan_csv(src / "sell_prices.csv.gz")
              .filter(pl.col("item_id").is_in(wide["item_id"].to_list())).collect())
    prices.write_csv(out / "sell_prices.csv")
    return out


def test_m5_slice_lands_in_catalogue_and_history(m5_slice, sqlite_engine, tmp_path):
    history = HistoryStore(tmp_path / "history")
    report = import_m5(sqlite_engine, m5_slice, history)
    assert (report.skus, report.daily_series, report.daily_rows) == (12, 12, 12 * 1913)
    wide = pl.read_csv(m5_slice / "daily" / "sales_small.csv.gz")
    daily = history.daily(sources=["m5"])
    first = wide.row(0, named=True)
    series = daily.filter(pl.col("sku") == first["item_id"]).sort("date")
    assert series["units"].to_list() == [first[f"d_{i}"] for i in range(1, 1914)]
    assert str(series["date"][0]) == "2011-01-29" and str(series["date"][-1]) == "2016-04-24"
    prices = history.read("prices", "m5")
    assert prices.height == pl.read_csv(m5_slice / "sell_prices.csv").height
    assert prices.filter(pl.col("valid_from").is_null()).height == 0
    with sqlite_engine.connect() as conn:
        cats = set(conn.execute(select(t.skus.c.category)).scalars())
        locs = set(conn.execute(select(t.locations.c.location)).scalars())
    assert cats == {"HOBBIES_2"} and locs == {"CA_3"}


def test_reimport_replaces_not_duplicates(m5_slice, sqlite_engine, tmp_path):
    history = HistoryStore(tmp_path / "history")
    import_m5(sqlite_engine, m5_slice, history)
    import_m5(sqlite_engine, m5_slice, history)
    assert history.daily().height == 12 * 1913


def test_negative_count_rejects_the_whole_import(m5_slice, tmp_path):
    bad = tmp_path / "bad"
    (bad / "daily").mkdir(parents=True)
    (bad / "calendar.csv.gz").write_bytes((m5_slice / "calendar.csv.gz").read_bytes())
    wide = pl.read_csv(m5_slice / "daily" / "sales_small.csv.gz").head(3)
    wide = wide.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(-4)
                             .otherwise(pl.col("d_7")).alias("d_7"))
    wide.write_csv(bad / "daily" / "x.csv")
    history = HistoryStore(tmp_path / "history")
    with pytest.raises(ImportRejected) as info:
        import_m5(None, bad, history)
    [problem] = info.value.problems
    assert (problem.row, problem.field) == (3, "d_7") and "negative" in problem.reason
    assert history.parts("daily") == []


def test_missing_calendar_is_a_clear_error(tmp_path):
    (tmp_path / "daily").mkdir()
    with pytest.raises(ImportRejected, match="calendar"):
        import_m5(None, tmp_path, HistoryStore(tmp_path / "h"))


def test_monthly_totals_of_the_real_file_match_daily(shared_data):
    """The two real M5 files agree (sanity of our readers on the whole data)."""
    cal = m5.read_calendar(shared_data / "m5" / "calendar.csv.gz")
    wide = pl.read_csv(shared_data / "m5" / "daily" / "sales_CA_3_HOBBIES_2.csv.gz")
    long = m5.wide_to_long(wide, cal)
    ours = (long.group_by("sku", pl.col("date").dt.truncate("1mo").alias("month"))
            .agg(pl.col("units").sum().cast(pl.Int64)))
    monthly = (pl.scan_csv(shared_data / "m5" / "monthly_sales_item_store.csv.gz")
               .filter(pl.col("store_id") == "CA_3", pl.col("dept_id") == "HOBBIES_2").collect())
    theirs = monthly.select(pl.col("item_id").alias("sku"),
                           (pl.col("month") + "-01").str.to_date().alias("month"),
                           pl.col("sales").alias("units"))
    joined = ours.join(theirs, on=["sku", "month"])
    assert joined.height == 149 * 64
    assert (joined["units"] == joined["units_right"]).all()
