"""prepare()'s array-based gap filling equals the plain polars group-by/join formulation."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from stockpilot.forecast.data import prepare


def reference(df: pl.DataFrame, end: date) -> tuple[pl.DataFrame, list[str]]:
    """The obvious formulation (what prepare did before it had to fit the M5 shape)."""
    clean = df.filter(pl.col("ds") <= end).with_columns(
        pl.col("y").fill_nan(0.0).fill_null(0.0).clip(lower_bound=0.0))
    agg = clean.group_by("unique_id", "ds").agg(pl.col("y").sum())
    first = agg.filter(pl.col("y") > 0).group_by("unique_id").agg(pl.col("ds").min()
                                                                  .alias("first"))
    all_zero = sorted(set(agg["unique_id"]) - set(first["unique_id"]))
    grid = first.with_columns(pl.date_ranges("first", pl.lit(end)).alias("ds")) \
        .explode("ds").select("unique_id", "ds")
    full = grid.join(agg, on=["unique_id", "ds"], how="left").with_columns(
        pl.col("y").fill_null(0.0)).sort("unique_id", "ds")
    return full, all_zero


@pytest.mark.parametrize("seed", range(12))
def test_prepare_matches_the_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    start = date(1969, 12, 1) if seed % 3 == 0 else date(2024, 1, 1)  # negative day numbers
    df = pl.DataFrame({
        "unique_id": rng.choice([f"S{i}@W" for i in range(int(rng.integers(1, 9)))], n),
        "ds": [start + timedelta(days=int(d)) for d in rng.integers(0, 60, n)],
        "y": [None if v == 99 else float(v)
              for v in rng.choice([0.0, 0.0, 1.0, 4.0, -2.0, np.nan, 99], n)],
    }, schema={"unique_id": pl.Utf8, "ds": pl.Date, "y": pl.Float64})
    end = df["ds"].max() if seed % 2 else start + timedelta(days=40)
    got = prepare(df, end)
    want, zero = reference(df, end)
    assert_frame_equal(got.df, want)
    assert got.all_zero == zero
