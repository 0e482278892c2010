"""Future-known covariates from the shop's own signals (and the M5 calendar and prices).

Pure: frames in, one frame out. The inputs are what :mod:`stockpilot.ingest.signals` and the
M5 import keep in the history store; :mod:`stockpilot.forecast.pipeline` reads them and hands
the result to the models that use covariates (the global LightGBM models). Columns (besides
``unique_id, ds``), each present only when its source is:

  * ``event`` — any event that day at the series' location (or at every location);
    ``event_<type>`` — an event of that type (types from the files, lower case; the M5
    calendar gives sporting, cultural, national, religious);
  * ``snap`` — an M5 SNAP day in the series' state (M5 calendar only);
  * ``promo`` — the series is on promotion that day (by SKU or by its category, at its
    location or at all); ``promo_discount`` — the deepest discount running (0 without one);
  * ``sell_price`` — the price list's price that day, carried forward over gaps (and back to
    the first listed day); ``price_rel_max`` — price ÷ the series' highest price;
    ``price_change`` — relative change against 7 days before. A series without any price gets
    0, 1 and 0 (LightGBM then learns nothing from price for it).

Every column is known in advance for the forecast days: events and promotions are planned,
price lists carry future dates, the calendar is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from stockpilot.domain.series import split_unique_id
from stockpilot.forecast.features import calendar_features


@dataclass(frozen=True)
class Signals:
    """What the history store holds that a model may know in advance (all optional)."""

    calendar: pl.DataFrame | None = None  # the M5 calendar: date, event_*, snap_*
    events: pl.DataFrame | None = None  # date, name, type, location
    promotions: pl.DataFrame | None = None  # sku, category, location, start, end, type, discount
    prices: pl.DataFrame | None = None  # sku, location, valid_from, valid_to, price
    categories: pl.DataFrame | None = None  # sku, category (several rows per SKU allowed)

    def describe(self) -> list[str]:
        """The sources present, in words (for the run's notes)."""
        parts = {"M5 calendar": self.calendar, "events": self.events,
                 "promotions": self.promotions, "prices": self.prices}
        return [f"{name} ({df.height} rows)" for name, df in parts.items()
                if df is not None and df.height]

    def empty(self) -> bool:
        """True when nothing here would become a covariate."""
        return not self.describe()


def _series(ids: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"unique_id": ids}, schema={"unique_id": pl.Utf8}).unique().with_columns(
        split_unique_id())


def _for_series(rows: pl.DataFrame, series: pl.DataFrame) -> pl.DataFrame:
    """Rows keyed by ``sku`` and ``location`` (null: every location) matched to series ids."""
    local = rows.filter(pl.col("location").is_not_null()).join(
        series, on=["sku", "location"])
    everywhere = rows.filter(pl.col("location").is_null()).drop("location").join(
        series, on="sku")
    return pl.concat([local.with_columns(pl.lit(1).alias("_specific")),
                      everywhere.with_columns(pl.lit(0).alias("_specific"))], how="diagonal")


def daily_prices(prices: pl.DataFrame, series: pl.DataFrame, end: date) -> pl.DataFrame:
    """``unique_id, ds, sell_price`` from price ranges.

    A location's own price beats an all-locations one; an open ``valid_to`` runs to the day
    before the next price of the same SKU and location (or to ``end``).
    """
    p = prices.select("sku", "location", "valid_from", "valid_to", pl.col("price").cast(
        pl.Float64)).join(series.select("sku").unique(), on="sku", how="semi")
    nxt = pl.col("valid_from").shift(-1).over("sku", "location") - timedelta(days=1)
    p = p.sort("sku", "location", "valid_from").with_columns(
        pl.coalesce("valid_to", nxt, pl.lit(end)).alias("valid_to"))
    days = p.with_columns(pl.date_ranges("valid_from", "valid_to").alias("ds")).explode("ds")
    matched = _for_series(days.drop("valid_from", "valid_to"), series)
    return matched.sort("_specific").group_by("unique_id", "ds").agg(
        pl.col("price").last().alias("sell_price"))


def _events(signals: Signals) -> pl.DataFrame | None:
    """``date, type, location`` of every event, the M5 calendar's included."""
    parts = []
    if signals.events is not None and signals.events.height:
        parts.append(signals.events.select("date", pl.col("type").fill_null(""), "location"))
    cal = signals.calendar
    if cal is not None:
        for i in (1, 2):
            if f"event_name_{i}" in cal.columns:
                parts.append(cal.filter(pl.col(f"event_name_{i}").is_not_null()).select(
                    "date", pl.col(f"event_type_{i}").fill_null("").str.to_lowercase()
                    .alias("type"), pl.lit(None, pl.Utf8).alias("location")))
    return pl.concat(parts) if parts else None


def _event_columns(grid: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    types = sorted(t for t in events["type"].unique().to_list() if t)
    flags = events.group_by("date", "location").agg(
        pl.lit(1, pl.Int8).alias("event"),
        *[(pl.col("type") == t).any().cast(pl.Int8).alias(f"event_{_name(t)}") for t in types])
    cols = [c for c in flags.columns if c.startswith("event")]
    local = flags.filter(pl.col("location").is_not_null()).rename({"date": "ds"})
    every = flags.filter(pl.col("location").is_null()).drop("location").rename(
        {"date": "ds"}).rename({c: f"{c}_all" for c in cols})
    out = grid.join(local, on=["ds", "location"], how="left").join(every, on="ds", how="left")
    return out.with_columns([
        pl.max_horizontal(pl.col(c).fill_null(0), pl.col(f"{c}_all").fill_null(0))
        .cast(pl.Int8).alias(c) for c in cols]).drop([f"{c}_all" for c in cols])


def _name(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text.lower()).strip("_") or "other"


def _promo_columns(grid: pl.DataFrame, promos: pl.DataFrame, signals: Signals,
                   series: pl.DataFrame) -> pl.DataFrame:
    by_sku = promos.filter(pl.col("sku").is_not_null()).drop("category")
    cats = signals.categories if signals.categories is not None else pl.DataFrame(
        schema={"sku": pl.Utf8, "category": pl.Utf8})
    by_cat = promos.filter(pl.col("sku").is_null()).drop("sku").join(
        cats.select("sku", "category").unique(), on="category")
    rows = pl.concat([by_sku, by_cat.select(by_sku.columns)]).with_columns(
        pl.date_ranges("start", "end").alias("ds")).explode("ds")
    hit = _for_series(rows.select("sku", "location", "ds", "discount"), series).group_by(
        "unique_id", "ds").agg(pl.lit(1, pl.Int8).alias("promo"),
                               pl.col("discount").fill_null(0.0).max().alias("promo_discount"))
    return grid.join(hit, on=["unique_id", "ds"], how="left").with_columns(
        pl.col("promo").fill_null(0).cast(pl.Int8), pl.col("promo_discount").fill_null(0.0))


def _snap(grid: pl.DataFrame, calendar: pl.DataFrame) -> pl.DataFrame:
    cal = calendar_features(calendar)
    snap_cols = [c for c in cal.columns if c.startswith("snap_")]
    if not snap_cols:
        return grid
    state = pl.col("location").str.split("_").list.first()
    snap = pl.lit(0, dtype=pl.Int8)
    for c in snap_cols:
        snap = pl.when(state == c.removeprefix("snap_")).then(pl.col(c)).otherwise(snap)
    return grid.join(cal.select("ds", *snap_cols), on="ds", how="left") \
        .with_columns(snap.fill_null(0).cast(pl.Int8).alias("snap")).drop(snap_cols)


def _price_columns(grid: pl.DataFrame, prices: pl.DataFrame, series: pl.DataFrame,
                   end: date) -> pl.DataFrame:
    out = grid.join(daily_prices(prices, series, end), on=["unique_id", "ds"], how="left") \
        .sort("unique_id", "ds")
    price = pl.col("sell_price").forward_fill().backward_fill().over("unique_id")
    out = out.with_columns(price.alias("sell_price"))
    before = pl.col("sell_price").shift(7).over("unique_id")
    return out.with_columns(
        (pl.col("sell_price") / pl.col("sell_price").max().over("unique_id"))
        .fill_null(1.0).alias("price_rel_max"),
        (pl.col("sell_price") / before - 1).fill_null(0.0).fill_nan(0.0).alias("price_change"),
    ).with_columns(pl.col("sell_price").fill_null(0.0))


def covariates(ids: list[str], start: date, end: date, signals: Signals) -> pl.DataFrame | None:
    """``unique_id, ds, <columns>`` for every series and day from ``start`` to ``end``.

    Args:
        ids: series ids ``SKU@LOCATION``.
        start: first day (the history's first day).
        end: last day (the last forecast day).
        signals: what the history store holds (see :class:`Signals`).

    Returns:
        The covariates, or None when ``signals`` holds nothing to build them from.
    """
    if signals.empty():
        return None
    series = _series(ids)
    days = pl.DataFrame({"ds": pl.date_range(start, end, "1d", eager=True)})
    grid = series.join(days, how="cross")
    events = _events(signals)
    if events is not None and events.height:
        grid = _event_columns(grid, events)
    if signals.calendar is not None:
        grid = _snap(grid, signals.calendar)
    if signals.promotions is not None and signals.promotions.height:
        grid = _promo_columns(grid, signals.promotions, signals, series)
    if signals.prices is not None and signals.prices.height:
        grid = _price_columns(grid, signals.prices, series, end)
    return grid.drop("sku", "location").sort("unique_id", "ds")
