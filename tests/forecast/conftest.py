"""Small real M5 slices shared by the forecasting tests (read once per session)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from stockpilot.forecast.data import prepare, to_long
from stockpilot.ingest import m5


@pytest.fixture(scope="session")
def m5_calendar(shared_data) -> pl.DataFrame:
    return m5.read_calendar(shared_data / "m5" / "calendar.csv.gz")


def _slice(shared_data, calendar, name: str, n_series: int, days: int,
           top: bool = False) -> pl.DataFrame:
    """``n_series`` series (the first, or the best-selling with ``top``), last ``days`` days."""
    wide = m5.read_daily_wide(shared_data / "m5" / "daily" / name)
    if top:
        day_cols = [c for c in wide.columns if c.startswith("d_")][-days:]
        wide = wide.with_columns(pl.sum_horizontal(day_cols).alias("_units")) \
            .sort("_units", "id", descending=[True, False]).drop("_units")
    df = prepare(to_long(m5.wide_to_long(wide.head(n_series), calendar))).df
    end = df["ds"].max()
    return df.filter(pl.col("ds") > end - timedelta(days=days))


@pytest.fixture(scope="session")
def foods_recent(shared_data, m5_calendar) -> pl.DataFrame:
    """The 20 best-selling real TX_3 FOODS_3 series, their last 200 days (up to d_1913)."""
    return _slice(shared_data, m5_calendar, "sales_TX_3_FOODS_3.csv.gz", 20, 200, top=True)


@pytest.fixture(scope="session")
def hobbies_recent(shared_data, m5_calendar) -> pl.DataFrame:
    """20 real, intermittent CA_3 HOBBIES_2 series, their last 200 days."""
    return _slice(shared_data, m5_calendar, "sales_CA_3_HOBBIES_2.csv.gz", 20, 200)


@pytest.fixture(scope="session")
def foods_prices(shared_data, m5_calendar, foods_recent) -> pl.DataFrame:
    """Daily prices ``unique_id, ds, sell_price`` of the ``foods_recent`` series."""
    ids = foods_recent["unique_id"].unique()
    items = ids.str.split("@").list.first().to_list()
    weekly = (pl.scan_csv(shared_data / "m5" / "sell_prices.csv.gz")
              .filter(pl.col("store_id") == "TX_3", pl.col("item_id").is_in(items))
              .collect())
    return (weekly.select((pl.col("item_id") + "@" + pl.col("store_id")).alias("unique_id"),
                          pl.col("wm_yr_wk").cast(pl.Int32), "sell_price")
            .join(m5_calendar.select("date", "wm_yr_wk"), on="wm_yr_wk")
            .select("unique_id", pl.col("date").alias("ds"), "sell_price"))


@pytest.fixture(scope="session")
def mixed_recent(foods_recent, hobbies_recent) -> pl.DataFrame:
    """10 grocery + 10 intermittent hobby series (last 200 days): every demand class."""
    ids = [*foods_recent["unique_id"].unique().sort()[:10],
           *hobbies_recent["unique_id"].unique().sort()[:10]]
    return pl.concat([foods_recent, hobbies_recent]).filter(pl.col("unique_id").is_in(ids))


@pytest.fixture(scope="session")
def mixed_covariates(m5_calendar, foods_prices, mixed_recent) -> pl.DataFrame:
    """Calendar and price covariates of ``mixed_recent`` to 7 days after its end (prices of
    FOODS only: the HOBBIES series get 0)."""
    from datetime import timedelta

    from stockpilot.forecast.features import m5_covariates

    end = mixed_recent["ds"].max()
    return m5_covariates(m5_calendar, foods_prices, mixed_recent["unique_id"].unique(),
                         mixed_recent["ds"].min(), end + timedelta(days=7)).fill_null(0.0)
