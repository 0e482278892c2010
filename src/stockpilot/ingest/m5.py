"""Readers of the M5 (Walmart) competition files, laid out as in ``shared/data/m5``.

A directory holds ``calendar.csv[.gz]``, ``sell_prices.csv[.gz]``, ``daily/*.csv[.gz]`` in the
M5 wide layout (``id, item_id, dept_id, cat_id, store_id, state_id, d_1, …``) and optionally
``monthly_sales_item_store.csv[.gz]``. In stockpilot terms an M5 item is a SKU and a store is a
location. Readers are pure (path in, polars frame out); :mod:`stockpilot.ingest.m5_import`
writes them to the catalogue and the history store.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from stockpilot.errors import ImportRejected, InvalidRow
from stockpilot.ingest.spec import read_csv

ID_COLUMNS = ["id", "item_id", "dept_id", "cat_id", "store_id", "state_id"]


def find_file(directory: Path, stem: str) -> Path | None:
    """``stem.csv`` or ``stem.csv.gz`` inside ``directory``, whichever exists."""
    for name in (f"{stem}.csv", f"{stem}.csv.gz"):
        if (directory / name).exists():
            return directory / name
    return None


def daily_files(directory: Path) -> list[Path]:
    """The wide daily sales files of an M5 directory, sorted by name."""
    folder = directory / "daily"
    return sorted(p for p in folder.glob("*.csv*") if p.name.endswith((".csv", ".csv.gz")))


def _require(df: pl.DataFrame, path: Path, columns: list[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ImportRejected(
            str(path), [InvalidRow(str(path), 1, c, "missing column") for c in missing]
        )


def read_calendar(path: Path) -> pl.DataFrame:
    """The M5 calendar with ``date`` parsed and ``d`` as an integer day number (d_1 → 1)."""
    df = read_csv(path, infer_schema_length=0)
    _require(df, path, ["date", "wm_yr_wk", "d"])
    snap = [c for c in df.columns if c.startswith("snap_")]
    return df.with_columns(
        pl.col("date").str.to_date("%Y-%m-%d"),
        pl.col("d").str.strip_prefix("d_").cast(pl.Int32),
        pl.col("wm_yr_wk").cast(pl.Int32),
        *[pl.col(c).cast(pl.Int8) for c in snap],
        *[pl.col(c).cast(pl.Int8) for c in ("wday", "month") if c in df.columns],
        *[pl.col(c).cast(pl.Int16) for c in ("year",) if c in df.columns],
    )


def read_prices(path: Path) -> pl.DataFrame:
    """Weekly prices: ``sku, location, wm_yr_wk, sell_price`` (a missing week = not on sale)."""
    df = read_csv(
        path,
        schema_overrides={"store_id": pl.Utf8, "item_id": pl.Utf8, "wm_yr_wk": pl.Int32,
                          "sell_price": pl.Float64},
    )
    _require(df, path, ["store_id", "item_id", "wm_yr_wk", "sell_price"])
    return df.select(
        pl.col("item_id").alias("sku"),
        pl.col("store_id").alias("location"),
        "wm_yr_wk",
        "sell_price",
    )


def read_daily_wide(path: Path) -> pl.DataFrame:
    """One M5 wide daily file as it is (ids plus ``d_1 … d_N`` integer columns)."""
    head = read_csv(path, n_rows=0)
    _require(head, path, ID_COLUMNS)
    day_cols = [c for c in head.columns if c.startswith("d_")]
    if not day_cols:
        raise ImportRejected(str(path), [InvalidRow(str(path), 1, "d_1", "no day columns")])
    schema = {c: pl.Utf8 for c in ID_COLUMNS} | {c: pl.Int32 for c in day_cols}
    try:
        df = read_csv(path, schema_overrides=schema)
    except pl.exceptions.ComputeError as exc:
        raise ImportRejected(
            str(path), [InvalidRow(str(path), 0, "d_*", f"not an integer count: {exc}")]
        ) from exc
    _check_counts(df, path, day_cols)
    return df


def _check_counts(df: pl.DataFrame, path: Path, day_cols: list[str]) -> None:
    """Every day cell is a non-negative integer: report each bad cell (row numbers 1-based)."""
    bad = (
        df.with_row_index("row", offset=2)
        .unpivot(index=["row"], on=day_cols, variable_name="field", value_name="units")
        .filter(pl.col("units").is_null() | (pl.col("units") < 0))
    )
    if bad.height:
        problems = [
            InvalidRow(str(path), r["row"], r["field"],
                       "missing count" if r["units"] is None else f"negative count {r['units']}")
            for r in bad.head(1000).iter_rows(named=True)
        ]
        raise ImportRejected(str(path), problems)


def wide_to_long(wide: pl.DataFrame, calendar: pl.DataFrame) -> pl.DataFrame:
    """Long daily demand ``sku, location, date, units`` from a wide file and the calendar."""
    day_cols = [c for c in wide.columns if c.startswith("d_")]
    long = wide.select(["item_id", "store_id", *day_cols]).unpivot(
        index=["item_id", "store_id"], on=day_cols, variable_name="d", value_name="units"
    )
    days = calendar.select("d", "date")
    return (
        long.with_columns(pl.col("d").str.strip_prefix("d_").cast(pl.Int32))
        .join(days, on="d", how="left")
        .select(
            pl.col("item_id").alias("sku"),
            pl.col("store_id").alias("location"),
            "date",
            pl.col("units").cast(pl.Int32),
        )
    )


def series_attributes(wide: pl.DataFrame) -> pl.DataFrame:
    """One row per series: ``id, sku, location, dept_id, cat_id, state_id``."""
    return wide.select(
        "id",
        pl.col("item_id").alias("sku"),
        pl.col("store_id").alias("location"),
        "dept_id",
        "cat_id",
        "state_id",
    )


def read_monthly(path: Path) -> pl.DataFrame:
    """Monthly totals ``sku, location, dept_id, cat_id, state_id, month (date), n_days, units``."""
    df = read_csv(path, schema_overrides={"sales": pl.Int64, "n_days": pl.Int32})
    _require(df, path, ["item_id", "store_id", "month", "n_days", "sales"])
    return df.select(
        pl.col("item_id").alias("sku"),
        pl.col("store_id").alias("location"),
        "dept_id",
        "cat_id",
        "state_id",
        (pl.col("month") + "-01").str.to_date("%Y-%m-%d").alias("month"),
        "n_days",
        pl.col("sales").alias("units"),
    )
