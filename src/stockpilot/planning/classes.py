"""ABC (revenue) × XYZ (demand variability) classes and their target service levels.

ABC: SKUs sorted by revenue; A covers the first 80% of revenue, B the next 15%, C the rest
(Silver, Pyke & Thomas 2017, §2.3). XYZ: coefficient of variation of weekly demand; X < 0.5,
Y < 1.0, Z ≥ 1.0 (a common practitioner split, e.g. Scholz-Reiter et al. 2012).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from stockpilot.errors import ConfigError

#: Default target cycle service level per class; planners override any cell.
DEFAULT_MATRIX: dict[str, float] = {
    "AX": 0.98, "AY": 0.97, "AZ": 0.95,
    "BX": 0.97, "BY": 0.95, "BZ": 0.93,
    "CX": 0.95, "CY": 0.93, "CZ": 0.90,
}


def abc_xyz(daily: pl.DataFrame, price: pl.DataFrame, *, a_share: float = 0.8,
            b_share: float = 0.95, x_cv: float = 0.5, y_cv: float = 1.0,
            matrix: dict[str, float] | None = None) -> pl.DataFrame:
    """``unique_id, revenue, abc, weekly_cv, xyz, klass, service_level`` per series.

    Args:
        daily: ``unique_id, ds, y`` demand history (the window to classify on).
        price: ``unique_id, price`` (unit price; missing prices count as 1).
        a_share: cumulative revenue share closing class A.
        b_share: cumulative revenue share closing class B.
        x_cv: weekly CV below which a series is X.
        y_cv: weekly CV below which a series is Y (else Z).
        matrix: target service level per class (default :data:`DEFAULT_MATRIX`).
    """
    levels = matrix or DEFAULT_MATRIX
    units = daily.group_by("unique_id").agg(pl.col("y").sum().alias("units"))
    rev = units.join(price, on="unique_id", how="left").with_columns(
        (pl.col("units") * pl.col("price").fill_null(1.0)).alias("revenue")).sort(
        "revenue", "unique_id", descending=[True, False])  # ties by id: the same plan every run
    total = rev["revenue"].sum() or 1.0
    share = (pl.col("revenue").cum_sum() - pl.col("revenue")) / total  # share before this SKU
    abc = pl.when(share < a_share).then(pl.lit("A")).when(share < b_share).then(pl.lit("B")) \
        .otherwise(pl.lit("C"))
    # sorted so the float sums of std/mean run in one order: a CV sitting on a cut must not
    # flip between runs (it did: the same plan twice gave two classes)
    weekly = daily.group_by("unique_id", pl.col("ds").dt.truncate("1w")).agg(
        pl.col("y").sum()).sort("unique_id", "ds")
    cv = weekly.group_by("unique_id").agg(
        (pl.col("y").std(ddof=0) / pl.col("y").mean()).fill_nan(None).alias("weekly_cv"))
    xyz = pl.when(pl.col("weekly_cv") < x_cv).then(pl.lit("X")) \
        .when(pl.col("weekly_cv") < y_cv).then(pl.lit("Y")).otherwise(pl.lit("Z"))
    out = rev.with_columns(abc.alias("abc")).join(cv, on="unique_id", how="left").with_columns(
        xyz.alias("xyz"))
    out = out.with_columns((pl.col("abc") + pl.col("xyz")).alias("klass"))
    return out.with_columns(pl.col("klass").replace_strict(levels, default=0.95)
                            .alias("service_level")).select(
        "unique_id", "revenue", "abc", "weekly_cv", "xyz", "klass", "service_level")


def service_matrix(levels: Mapping[str, float] | None) -> dict[str, float]:
    """:data:`DEFAULT_MATRIX` with the classes of ``levels`` (``[service_levels]``) replaced.

    Raises:
        ConfigError: an unknown class or a level outside (0, 1).
    """
    out = dict(DEFAULT_MATRIX)
    for klass, level in (levels or {}).items():
        if klass not in out:
            raise ConfigError(f"[service_levels] {klass!r}: not an ABC×XYZ class "
                              f"({', '.join(sorted(out))})")
        if not 0 < float(level) < 1:
            raise ConfigError(f"[service_levels] {klass} = {level}: must be between 0 and 1")
        out[klass] = float(level)
    return out
