"""Weekly and monthly forecasting frames from daily demand (or from stored monthly totals).

Pure. ``stockpilot forecast --freq W|M`` sums the prepared daily frame (gaps already zeros,
censored days imputed, outliers handled) into calendar weeks (Monday start) or months and
forecasts ``horizon`` periods with the statistical models (season length 52 or 12). The last
period is kept only when it is complete (a week ending on Sunday, a month on its last day):
a partial period would look like a drop in demand. With ``--freq M`` in a workspace that holds
monthly totals (the M5 import keeps all 30,490 series' months), those are used as they are.
The global models are daily (lags 7–28 days, weekday features) and are refused here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import polars as pl

from stockpilot.domain.series import unique_id
from stockpilot.errors import StockpilotError
from stockpilot.forecast.data import Prepared


@dataclass(frozen=True)
class Frequency:
    """One forecasting frequency: polars offset, season length, its name in words."""

    code: str  # D, W, M
    offset: str
    season_length: int
    unit: str


FREQUENCIES = {"D": Frequency("D", "1d", 7, "days"), "W": Frequency("W", "1w", 52, "weeks"),
               "M": Frequency("M", "1mo", 12, "months")}


def frequency(code: str) -> Frequency:
    """The :class:`Frequency` for ``D``, ``W`` or ``M`` (typed error otherwise)."""
    try:
        return FREQUENCIES[code.upper()]
    except KeyError:
        raise StockpilotError(f"unknown frequency {code!r}: use D, W or M") from None


def _period_end(start: date, f: Frequency) -> date:
    if f.code == "W":
        return start + timedelta(days=6)
    nxt = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def to_periods(prep: Prepared, f: Frequency) -> Prepared:
    """``prep`` summed into periods of ``f`` (``ds`` = the period's first day)."""
    if f.code == "D":
        return prep
    df = prep.df.group_by("unique_id", pl.col("ds").dt.truncate(f.offset)).agg(
        pl.col("y").sum()).sort("unique_id", "ds")
    last = cast(date | None, df["ds"].max())
    if last is None:
        raise StockpilotError("no demand history to forecast")
    if _period_end(last, f) > prep.end:  # the last period is not complete yet
        df = df.filter(pl.col("ds") < last)
        last = cast(date | None, df["ds"].max())
    if last is None:
        raise StockpilotError(f"less than one complete {f.unit[:-1]} of history")
    notes = [*prep.notes, f"summed into {f.unit} (last complete one starts {last})"]
    return Prepared(df, last, notes, prep.all_zero)


def from_monthly(monthly: pl.DataFrame) -> Prepared:
    """A monthly frame from stored totals (``sku, location, month, n_days, units``).

    A month whose ``n_days`` is below its length (the data's first or last, partial month)
    is dropped; series without any sale are forecast as 0.
    """
    days = (pl.col("month").dt.month_end() - pl.col("month")).dt.total_days() + 1
    full = monthly.filter(pl.col("n_days") >= days)
    df = full.select(unique_id(),
                     pl.col("month").alias("ds"), pl.col("units").cast(pl.Float64).alias("y"))
    totals = df.group_by("unique_id").agg(pl.col("y").sum())
    zero = totals.filter(pl.col("y") <= 0)["unique_id"].sort().to_list()
    df = df.filter(~pl.col("unique_id").is_in(zero)).sort("unique_id", "ds")
    # from the first month with a sale, as the daily frames start at the first sale
    df = df.filter((pl.col("y") > 0).cum_max().over("unique_id"))
    end = cast(date | None, df["ds"].max())
    if end is None:
        raise StockpilotError("no monthly demand to forecast")
    notes = [f"monthly totals of {df['unique_id'].n_unique()} series (last complete month "
             f"starts {end})"]
    return Prepared(df, end, notes, zero)
