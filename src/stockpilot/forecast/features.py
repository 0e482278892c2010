"""Future-known covariates for the global models: M5 calendar (events, SNAP) and prices.

Built per series and day from the M5 calendar (:func:`stockpilot.ingest.m5.read_calendar`) and
daily prices (``unique_id, ds, sell_price``, as :func:`stockpilot.forecast.m5_benchmark.load`
gives them). Every column is known in advance for the forecast days — the calendar is fixed and
M5 publishes prices for the evaluation weeks — so the models may use them at every horizon
step. Weekday and month come from mlforecast's date features and are not repeated here.

Columns (besides ``unique_id, ds``):
  * ``event`` — any named event that day; ``event_sporting``, ``event_cultural``,
    ``event_national``, ``event_religious`` — an event of that type (first or second slot);
  * ``snap`` — a SNAP purchase-allowed day in the series' own state (CA, TX or WI), the state
    being the prefix of the store (``FOODS_3_001@TX_3`` → ``TX``);
  * ``sell_price`` — that week's price, carried forward (and back to the first listed week)
    over weeks with no price row;
  * ``price_rel_max`` — price ÷ the series' highest price (discount depth);
  * ``price_change`` — relative change against the price 7 days before (0 when unknown).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from stockpilot.domain.series import split_unique_id

EVENT_TYPES = ("Sporting", "Cultural", "National", "Religious")
COVARIATES = ("event", *[f"event_{t.lower()}" for t in EVENT_TYPES], "snap",
              "sell_price", "price_rel_max", "price_change")


def calendar_features(calendar: pl.DataFrame) -> pl.DataFrame:
    """Per day: ``ds, event, event_<type>…, snap_CA, snap_TX, snap_WI`` (Int8 flags)."""
    types = [pl.col(c).fill_null("") for c in ("event_type_1", "event_type_2")
             if c in calendar.columns]
    flags = [pl.any_horizontal(*[t == name for t in types]).cast(pl.Int8)
             .alias(f"event_{name.lower()}") for name in EVENT_TYPES]
    snap = [c for c in calendar.columns if c.startswith("snap_")]
    return calendar.select(
        pl.col("date").alias("ds"),
        pl.col("event_name_1").is_not_null().cast(pl.Int8).alias("event"),
        *flags, *[pl.col(c).cast(pl.Int8) for c in snap])


def m5_covariates(calendar: pl.DataFrame, prices: pl.DataFrame, ids: pl.Series | list[str],
                  start: date, end: date) -> pl.DataFrame:
    """Covariates ``unique_id, ds, <COVARIATES>`` for ``ids`` on every day from start to end.

    Args:
        calendar: the M5 calendar (``date, event_name_1, event_type_1/2, snap_*``).
        prices: daily prices ``unique_id, ds, sell_price``.
        ids: series ids ``ITEM@STORE``.
        start: first day (a date).
        end: last day, usually the last forecast day.
    """
    days = pl.DataFrame({"ds": pl.date_range(start, end, "1d", eager=True)})
    grid = pl.DataFrame({"unique_id": pl.Series(ids, dtype=pl.Utf8).unique()}).join(
        days, how="cross")
    cal = calendar_features(calendar)
    state = split_unique_id()[1].str.split("_").list.first()
    snap_cols = [c for c in cal.columns if c.startswith("snap_")]
    snap = pl.lit(0, dtype=pl.Int8)
    for c in snap_cols:
        snap = pl.when(state == c.removeprefix("snap_")).then(pl.col(c)).otherwise(snap)
    out = grid.join(cal, on="ds", how="left").with_columns(snap.alias("snap")).drop(snap_cols)
    out = out.join(prices.select("unique_id", "ds", "sell_price"), on=["unique_id", "ds"],
                   how="left").sort("unique_id", "ds")
    price = pl.col("sell_price").forward_fill().backward_fill().over("unique_id")
    out = out.with_columns(price.alias("sell_price"))
    before = pl.col("sell_price").shift(7).over("unique_id")
    return out.with_columns(
        (pl.col("sell_price") / pl.col("sell_price").max().over("unique_id"))
        .alias("price_rel_max"),
        (pl.col("sell_price") / before - 1).fill_null(0.0).fill_nan(0.0).alias("price_change"),
    ).select("unique_id", "ds", *COVARIATES)
