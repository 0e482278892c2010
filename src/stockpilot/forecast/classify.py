"""Demand classes per series (Syntetos & Boylan 2005), used to route candidate models.

ADI = periods / periods with demand (average inter-demand interval); CV² = squared
coefficient of variation of the non-zero demands. Cut-offs 1.32 and 0.49 (Syntetos, Boylan &
Croston 2005, "On the categorization of demand patterns", JORS 56(5)):
smooth (ADI < 1.32, CV² < 0.49), erratic (ADI < 1.32, CV² ≥ 0.49), intermittent
(ADI ≥ 1.32, CV² < 0.49), lumpy (ADI ≥ 1.32, CV² ≥ 0.49); a series without demand is "zero".
"""

from __future__ import annotations

import polars as pl

ADI_CUT = 1.32
CV2_CUT = 0.49


def demand_classes(df: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, n_days, nonzero_days, adi, cv2, demand_class`` for history ``unique_id, ds, y``.

    Statistics start at each series' first non-zero day (days before a product was listed are
    not demand), as the M5 guide does for its scales.
    """
    # from each series' first sale on: a join on the first day, not a sort of the whole
    # history (the sort was most of a 30,000-SKU plan's time)
    first = df.filter(pl.col("y") > 0).group_by("unique_id").agg(
        pl.col("ds").min().alias("_first"))
    live = df.join(first, on="unique_id").filter(pl.col("ds") >= pl.col("_first"))
    nz = pl.col("y").filter(pl.col("y") > 0)
    stats = live.group_by("unique_id").agg(
        pl.len().alias("n_days"), (pl.col("y") > 0).sum().alias("nonzero_days"),
        nz.mean().alias("mu"), nz.std(ddof=0).alias("sd"))
    all_ids = df.select("unique_id").unique()
    stats = all_ids.join(stats, on="unique_id", how="left").with_columns(
        pl.col("n_days").fill_null(0), pl.col("nonzero_days").fill_null(0))
    adi = pl.col("n_days") / pl.col("nonzero_days")
    cv2 = (pl.col("sd") / pl.col("mu")) ** 2
    out = stats.with_columns(
        pl.when(pl.col("nonzero_days") > 0).then(adi).otherwise(None).alias("adi"),
        pl.when(pl.col("nonzero_days") > 1).then(cv2).otherwise(0.0).alias("cv2"))
    klass = (pl.when(pl.col("nonzero_days") == 0).then(pl.lit("zero"))
             .when((pl.col("adi") < ADI_CUT) & (pl.col("cv2") < CV2_CUT)).then(pl.lit("smooth"))
             .when(pl.col("adi") < ADI_CUT).then(pl.lit("erratic"))
             .when(pl.col("cv2") < CV2_CUT).then(pl.lit("intermittent"))
             .otherwise(pl.lit("lumpy")))
    return out.with_columns(klass.alias("demand_class")).select(
        "unique_id", "n_days", "nonzero_days", "adi", "cv2", "demand_class").sort("unique_id")
