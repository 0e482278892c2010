"""Supplier lead times learned from purchase-order receipts, and demand over a random lead time.

Each receipt row (supplier, sku, order_date, receipt_date, qty) says that ``qty`` units took
receipt_date − order_date days. Per supplier, and per supplier-SKU where there are at least
``min_lines_sku`` receipt lines, we keep the empirical lead-time distribution (weighted by
lines, or by units so that a late partial delivery of most of an order counts for more), and
its mean, standard deviation and quantiles. Planning then uses the supplier-SKU distribution
where it exists and the supplier's otherwise (a simple two-level pooling).

Demand over a random lead time mixes the L-day demand distributions over the lead-time pmf:
P(D ≤ x) = Σ_l P(L = l)·P(D_l ≤ x), computed exactly for independent days with the daily
demand pmf read from history (:func:`stockpilot.planning.leadtime_dist.iid_sum_pmf`); its mean
is μ·E[L] and variance E[L]·σ² + μ²·Var(L) (Silver, Pyke & Thomas 2017, ch. 6).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl

from stockpilot.errors import ImportRejected, InvalidRow
from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.planning.leadtime_dist import sum_quantiles

Weight = Literal["lines", "units"]
LEVELS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99)


def _validated(receipts: pl.DataFrame) -> pl.DataFrame:
    df = receipts.with_row_index("row", offset=1).with_columns(
        (pl.col("receipt_date") - pl.col("order_date")).dt.total_days().alias("lead_time_days"))
    bad = df.filter((pl.col("lead_time_days") < 0) | (pl.col("qty") <= 0))
    if not bad.is_empty():
        raise ImportRejected("receipts", [
            InvalidRow("receipts", int(r["row"]), "receipt_date" if r["lead_time_days"] < 0
                       else "qty", "received before ordered" if r["lead_time_days"] < 0
                       else "quantity must be positive")
            for r in bad.iter_rows(named=True)])
    return df


def lead_time_pmfs(receipts: pl.DataFrame, *, min_lines_sku: int = 10,
                   weight: Weight = "lines") -> pl.DataFrame:
    """``level, supplier, sku, lead_time_days, prob``: empirical lead-time pmfs.

    ``level`` is ``"supplier"`` (``sku`` null) for every supplier, and ``"supplier-sku"`` for
    pairs with at least ``min_lines_sku`` receipt lines.

    Raises:
        ImportRejected: a receipt before its order, or a non-positive quantity.
    """
    df = _validated(receipts).with_columns(
        (pl.lit(1.0) if weight == "lines" else pl.col("qty").cast(pl.Float64)).alias("w"))
    pairs = df.group_by("supplier", "sku").agg(pl.len().alias("n")).filter(
        pl.col("n") >= min_lines_sku)

    def pmf(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
        g = frame.group_by(*keys, "lead_time_days").agg(pl.col("w").sum())
        return g.with_columns((pl.col("w") / pl.col("w").sum().over(keys)).alias("prob"))

    sup = pmf(df, ["supplier"]).with_columns(pl.lit(None, pl.Utf8).alias("sku"),
                                             pl.lit("supplier").alias("level"))
    sku = pmf(df.join(pairs, on=["supplier", "sku"], how="semi"), ["supplier", "sku"])
    sku = sku.with_columns(pl.lit("supplier-sku").alias("level"))
    cols = ["level", "supplier", "sku", "lead_time_days", "prob"]
    return pl.concat([sup.select(cols), sku.select(cols)]).sort(
        "level", "supplier", "sku", "lead_time_days", nulls_last=False)


def lead_time_stats(receipts: pl.DataFrame, *, levels: tuple[float, ...] = LEVELS,
                    min_lines_sku: int = 10, weight: Weight = "lines") -> pl.DataFrame:
    """``level, supplier, sku, n_lines, units, mean_days, std_days, q…`` (whole days).

    Quantiles are the smallest lead time whose cumulative probability reaches the level.
    """
    pm = lead_time_pmfs(receipts, min_lines_sku=min_lines_sku, weight=weight)
    keys = ["level", "supplier", "sku"]
    d = pl.col("lead_time_days")
    cum = pm.sort(*keys, "lead_time_days").with_columns(
        pl.col("prob").cum_sum().over(keys).alias("cdf"))
    stats = cum.group_by(keys).agg(
        (d * pl.col("prob")).sum().alias("mean_days"),
        ((d.cast(pl.Float64) ** 2 * pl.col("prob")).sum()
         - (d * pl.col("prob")).sum() ** 2).clip(lower_bound=0.0).sqrt().alias("std_days"),
        *[d.filter(pl.col("cdf") >= t - 1e-12).min().alias(qcol(t)) for t in levels])
    df = _validated(receipts)
    counts = pl.concat([
        df.group_by("supplier").agg(pl.len().alias("n_lines"), pl.col("qty").sum().alias("units"))
        .with_columns(pl.lit(None, pl.Utf8).alias("sku"), pl.lit("supplier").alias("level")),
        df.group_by("supplier", "sku").agg(pl.len().alias("n_lines"),
                                           pl.col("qty").sum().alias("units"))
        .with_columns(pl.lit("supplier-sku").alias("level"))], how="diagonal")
    out = stats.join(counts, on=keys, how="left", nulls_equal=True)
    return out.select(*keys, "n_lines", "units", "mean_days", "std_days",
                      *[qcol(t) for t in levels]).sort(*keys, nulls_last=False)


def lead_time_for(pmfs: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, source, lead_time_days, prob`` for items ``unique_id, supplier, sku``.

    Each item takes its supplier-SKU distribution when there is one, else its supplier's
    (``source`` says which); items of a supplier without receipts are left out.
    """
    own = items.join(pmfs.filter(pl.col("level") == "supplier-sku").drop("level"),
                     on=["supplier", "sku"], how="inner")
    rest = items.join(own.select("unique_id").unique(), on="unique_id", how="anti")
    pooled = rest.join(pmfs.filter(pl.col("level") == "supplier").drop("level", "sku"),
                       on="supplier", how="inner")
    cols = ["unique_id", "source", "lead_time_days", "prob"]
    return pl.concat([own.with_columns(pl.lit("supplier-sku").alias("source")).select(cols),
                      pooled.with_columns(pl.lit("supplier").alias("source")).select(cols)]
                     ).sort("unique_id", "lead_time_days")


def demand_over_random_lead_time(daily: pl.DataFrame, lead_time: pl.DataFrame,
                                 *, review_days: int = 0,
                                 levels: tuple[float, ...] = QUANTILES) -> pl.DataFrame:
    """``unique_id, mean_lead_time_days, mean, q…``: demand over a random lead time (+ review).

    Args:
        daily: gap-free history ``unique_id, ds, y`` (its daily pmf is the empirical one).
        lead_time: ``unique_id, lead_time_days, prob`` (e.g. from :func:`lead_time_for`).
        review_days: added to every lead time (the protection interval is L + R).
        levels: quantile levels wanted.
    """
    ids = lead_time.select("unique_id").unique().join(
        daily.select("unique_id").unique(), on="unique_id").sort("unique_id").with_row_index("i")
    hist = daily.join(ids, on="unique_id").with_columns(
        pl.col("y").round().clip(lower_bound=0).cast(pl.Int64).alias("units"))
    width = int(hist["units"].to_numpy().max(initial=0)) + 1
    daily_pmf = np.zeros((len(ids), width))
    np.add.at(daily_pmf, (hist["i"].to_numpy(), hist["units"].to_numpy()), 1.0)
    daily_pmf /= daily_pmf.sum(axis=1, keepdims=True)
    lt = lead_time.join(ids, on="unique_id").with_columns(
        pl.col("lead_time_days") + review_days)
    lead_pmf = np.zeros((len(ids), int(lt["lead_time_days"].to_numpy().max(initial=0)) + 1))
    np.add.at(lead_pmf, (lt["i"].to_numpy(), lt["lead_time_days"].to_numpy()),
              lt["prob"].to_numpy())
    mean, q = sum_quantiles(daily_pmf, lead_pmf, levels)
    el = lead_pmf @ np.arange(lead_pmf.shape[1]) - review_days
    return ids.drop("i").with_columns(
        pl.Series("mean_lead_time_days", el), pl.Series("mean", mean),
        *[pl.Series(qcol(t), q[:, k]) for k, t in enumerate(levels)])
