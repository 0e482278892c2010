"""``stockpilot import m5 DIR``: the M5 files into the catalogue, prices and history store.

Items become SKUs (category = M5 department), stores become locations. Daily sales go to the
history store's ``daily/m5`` dataset, monthly totals to ``monthly/m5`` (kept apart: they are
different granularities), weekly prices to ``prices/m5`` with the dates each week covers, and
the calendar (events, SNAP days) to ``calendar/m5``. The catalogue price of a SKU is its
median last weekly price over the stores. Nothing is written to the database or the history
store before every file has been read and checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from stockpilot.errors import ImportRejected, InvalidRow
from stockpilot.ingest import m5
from stockpilot.ledger import catalogue as cat
from stockpilot.store import staging
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import UnitOfWork

Progress = Callable[[str], None]


@dataclass
class M5Report:
    """What an M5 import wrote."""

    skus: int = 0
    locations: int = 0
    daily_series: int = 0
    daily_rows: int = 0
    monthly_series: int = 0
    price_rows: int = 0
    calendar_days: int = 0
    files: list[str] = field(default_factory=list)


@dataclass
class _Loaded:
    calendar: pl.DataFrame
    prices: pl.DataFrame | None
    daily: pl.DataFrame | None
    attributes: pl.DataFrame | None
    monthly: pl.DataFrame | None


def import_m5(engine: Engine | None, directory: Path, history: HistoryStore,
              progress: Progress | None = None) -> M5Report:
    """Import an M5 directory; see the module docstring. ``engine`` None skips the catalogue."""
    say = progress or (lambda _msg: None)
    data = _load(directory, say)
    report = M5Report()
    staging.recover(history, engine)  # finish or undo a killed import first
    with staging.staged(history, "m5") as stage:
        say("writing history store")
        _write_history(data, stage, report)
        if engine is not None:
            say("writing catalogue")
            _write_catalogue(engine, data, report, stage)
    stage.publish()  # after the commit: a kill here is finished by the next run's recover
    return report


def _load(directory: Path, say: Progress) -> _Loaded:
    if not directory.is_dir():
        raise ImportRejected(str(directory), [InvalidRow(str(directory), 0, "*",
                                                         "not a directory")])
    cal_path = m5.find_file(directory, "calendar")
    if cal_path is None:
        raise ImportRejected(str(directory), [InvalidRow(str(directory), 0, "calendar.csv",
                                                         "missing (calendar.csv[.gz] needed)")])
    say("reading calendar")
    calendar = m5.read_calendar(cal_path)
    price_path = m5.find_file(directory, "sell_prices")
    say("reading prices")
    prices = m5.read_prices(price_path) if price_path else None
    wides = []
    for path in m5.daily_files(directory):
        say(f"reading {path.name}")
        wides.append(m5.read_daily_wide(path))
    daily = attributes = None
    if wides:
        wide = pl.concat(wides, how="diagonal")
        _check_unique_ids(wide, directory)
        daily = m5.wide_to_long(wide, calendar)
        attributes = m5.series_attributes(wide)
    monthly_path = m5.find_file(directory, "monthly_sales_item_store")
    say("reading monthly totals" if monthly_path else "no monthly file")
    monthly = m5.read_monthly(monthly_path) if monthly_path else None
    return _Loaded(calendar, prices, daily, attributes, monthly)


def _check_unique_ids(wide: pl.DataFrame, directory: Path) -> None:
    dup = wide.group_by("item_id", "store_id").len().filter(pl.col("len") > 1)
    if dup.height:
        raise ImportRejected(str(directory / "daily"), [
            InvalidRow(str(directory / "daily"), 0, "id", f"series {i}@{s} appears twice")
            for i, s, _ in dup.iter_rows()])


def _write_history(data: _Loaded, history: staging.Stage, report: M5Report) -> None:
    history.write("calendar", "m5", data.calendar)
    report.calendar_days = data.calendar.height
    if data.daily is not None and data.attributes is not None:
        history.write_daily("m5", data.daily.filter(pl.col("date").is_not_null()))
        history.write("series", "m5", data.attributes)
        report.daily_rows = data.daily.height
        report.daily_series = data.attributes.height if data.attributes is not None else 0
    if data.monthly is not None:
        history.write("monthly", "m5", data.monthly)
        report.monthly_series = data.monthly.select("sku", "location").n_unique()
    if data.prices is not None:
        weeks = data.calendar.group_by("wm_yr_wk").agg(
            pl.col("date").min().alias("valid_from"), pl.col("date").max().alias("valid_to"))
        prices = data.prices.join(weeks, on="wm_yr_wk", how="left").rename(
            {"sell_price": "price"})
        history.write("prices", "m5", prices)
        report.price_rows = prices.height


def _write_catalogue(engine: Engine, data: _Loaded, report: M5Report,
                     stage: staging.Stage) -> None:
    items = _items(data)
    price = _last_prices(data.prices)
    skus = (items.join(price, on="sku", how="left")
            .select("sku", pl.col("sku").alias("name"), pl.col("dept_id").alias("category"),
                    "price"))
    stores = items.select("location").unique().sort("location")
    with UnitOfWork(engine) as uow:
        report.skus = cat.upsert_skus(uow.conn, skus.unique("sku").to_dicts())
        report.locations = cat.upsert_locations(uow.conn, [
            {"location": s, "name": f"Walmart store {s}", "kind": "store"}
            for s in stores["location"].to_list()])
        stage.record(uow.conn)
        uow.commit()


def _items(data: _Loaded) -> pl.DataFrame:
    parts = []
    if data.attributes is not None:
        parts.append(data.attributes.select("sku", "location", "dept_id"))
    if data.monthly is not None:
        parts.append(data.monthly.select("sku", "location", "dept_id").unique())
    if not parts:
        raise ImportRejected("m5", [InvalidRow("m5", 0, "daily", "no daily or monthly sales")])
    return pl.concat(parts).unique()


def _last_prices(prices: pl.DataFrame | None) -> pl.DataFrame:
    if prices is None:
        return pl.DataFrame(schema={"sku": pl.Utf8, "price": pl.Float64})
    last = prices.sort("wm_yr_wk").group_by("sku", "location").agg(
        pl.col("sell_price").last())
    return last.group_by("sku").agg(pl.col("sell_price").median().round(2).alias("price"))
