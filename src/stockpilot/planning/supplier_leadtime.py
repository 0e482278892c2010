"""Supplier lead times learned from purchase-order receipts, and demand over a random lead time.

Each receipt row (supplier, sku, order_date, receipt_date, qty) says that ``qty`` units took
receipt_date − order_date days. Lines of one purchase order received on the same day are one
receipt (one observation of the supplier, however many lines it had). Per supplier, and per
supplier-SKU, with at least ``MIN_RECEIPTS`` receipts we keep the empirical lead-time
distribution (weighted by receipts, or by units so that a late partial delivery of most of an
order counts for more), and its mean, standard deviation and quantiles. Planning uses the
supplier-SKU distribution where it exists and the supplier's otherwise (two-level pooling),
blended towards the stated lead time with credibility weight n / (n + k)
(:func:`shrink_weight`); with fewer receipts the stated lead time stands.

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
#: Fewest receipts a supplier (or supplier-SKU) needs before its own distribution is used.
MIN_RECEIPTS = 5
#: Weight of the stated lead time, in receipts, when learned and stated are blended.
PRIOR_RECEIPTS = 5.0


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


def _receipts(df: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """One row per receipt at the level ``keys``: lines of one PO received on one day count once.

    Without a ``po_id`` column every line is its own receipt. (Two lines of one order arriving
    together are one observation of the supplier's lead time, not two.)
    """
    if "po_id" not in df.columns:
        return df
    return df.group_by(*keys, "po_id", "receipt_date").agg(
        pl.col("lead_time_days").max(), pl.col("qty").sum(), pl.col("row").min())


def lead_time_pmfs(receipts: pl.DataFrame, *, min_receipts: int = MIN_RECEIPTS,
                   weight: Weight = "lines") -> pl.DataFrame:
    """``level, supplier, sku, n_receipts, lead_time_days, prob``: empirical lead-time pmfs.

    ``level`` is ``"supplier"`` (``sku`` null) and ``"supplier-sku"``, each only where at least
    ``min_receipts`` receipts were seen (lines of one PO received the same day count once; with
    ``po_id`` absent each line is a receipt).

    Raises:
        ImportRejected: a receipt before its order, or a non-positive quantity.
    """
    df = _validated(receipts)
    parts = []
    for level, keys in (("supplier", ["supplier"]), ("supplier-sku", ["supplier", "sku"])):
        got = _receipts(df, keys).with_columns(
            (pl.lit(1.0) if weight == "lines" else pl.col("qty").cast(pl.Float64)).alias("w"),
            pl.len().over(keys).alias("n_receipts")).filter(pl.col("n_receipts") >= min_receipts)
        g = got.group_by(*keys, "n_receipts", "lead_time_days").agg(pl.col("w").sum())
        g = g.with_columns((pl.col("w") / pl.col("w").sum().over(keys)).alias("prob"),
                           pl.lit(level).alias("level"))
        parts.append(g if "sku" in keys else g.with_columns(pl.lit(None, pl.Utf8).alias("sku")))
    cols = ["level", "supplier", "sku", "n_receipts", "lead_time_days", "prob"]
    return pl.concat([p.select(cols).cast({"n_receipts": pl.Int64}) for p in parts]).sort(
        "level", "supplier", "sku", "lead_time_days", nulls_last=False)


def lead_time_stats(receipts: pl.DataFrame, *, levels: tuple[float, ...] = LEVELS,
                    min_receipts: int = 1, weight: Weight = "lines") -> pl.DataFrame:
    """``level, supplier, sku, n_receipts, units, mean_days, std_days, q…`` (whole days).

    Quantiles are the smallest lead time whose cumulative probability reaches the level.
    """
    pm = lead_time_pmfs(receipts, min_receipts=min_receipts, weight=weight)
    keys = ["level", "supplier", "sku"]
    d = pl.col("lead_time_days")
    cum = pm.sort(*keys, "lead_time_days").with_columns(
        pl.col("prob").cum_sum().over(keys).alias("cdf"))
    stats = cum.group_by(keys).agg(
        pl.col("n_receipts").first(),
        (d * pl.col("prob")).sum().alias("mean_days"),
        ((d.cast(pl.Float64) ** 2 * pl.col("prob")).sum()
         - (d * pl.col("prob")).sum() ** 2).clip(lower_bound=0.0).sqrt().alias("std_days"),
        *[d.filter(pl.col("cdf") >= t - 1e-12).min().alias(qcol(t)) for t in levels])
    df = _validated(receipts)
    units = pl.concat([
        df.group_by("supplier").agg(pl.col("qty").sum().alias("units"))
        .with_columns(pl.lit(None, pl.Utf8).alias("sku"), pl.lit("supplier").alias("level")),
        df.group_by("supplier", "sku").agg(pl.col("qty").sum().alias("units"))
        .with_columns(pl.lit("supplier-sku").alias("level"))], how="diagonal")
    out = stats.join(units, on=keys, how="left", nulls_equal=True)
    return out.select(*keys, "n_receipts", "units", "mean_days", "std_days",
                      *[qcol(t) for t in levels]).sort(*keys, nulls_last=False)


def shrink_weight(n_receipts: pl.Expr, prior_receipts: float = PRIOR_RECEIPTS) -> pl.Expr:
    """Credibility Z = n / (n + k) of ``n`` receipts against the stated lead time.

    Bühlmann's credibility factor (Bühlmann & Gisler 2005, §3.2): the learned distribution gets
    weight Z, the stated lead time 1 − Z, so 5 receipts with k = 5 meet the stated one halfway.
    """
    return n_receipts.cast(pl.Float64) / (n_receipts.cast(pl.Float64) + prior_receipts)


def lead_time_for(pmfs: pl.DataFrame, items: pl.DataFrame, *,
                  prior_receipts: float = PRIOR_RECEIPTS) -> pl.DataFrame:
    """``unique_id, source, n_receipts, lead_time_days, prob`` for items with enough receipts.

    ``items``: ``unique_id, supplier, sku`` and optionally ``lead_time_days`` (the stated one).
    Each item takes its supplier-SKU distribution when there is one, else its supplier's
    (``source`` says which); with a stated lead time the pmf is blended towards it,
    Z·learned + (1 − Z)·δ(stated) (:func:`shrink_weight`). Items whose supplier has too few
    receipts are left out (they keep the stated lead time).
    """
    stated = "lead_time_days" in items.columns
    it = items.rename({"lead_time_days": "stated"}) if stated else items
    own = it.join(pmfs.filter(pl.col("level") == "supplier-sku").drop("level"),
                  on=["supplier", "sku"], how="inner")
    rest = it.join(own.select("unique_id").unique(), on="unique_id", how="anti")
    pooled = rest.join(pmfs.filter(pl.col("level") == "supplier").drop("level", "sku"),
                       on="supplier", how="inner")
    cols = ["unique_id", "source", "n_receipts", "lead_time_days", "prob"]
    both = pl.concat([own.with_columns(pl.lit("supplier-sku").alias("source")),
                      pooled.with_columns(pl.lit("supplier").alias("source"))],
                     how="diagonal")
    if not stated or both.is_empty():
        return both.select(cols).sort("unique_id", "lead_time_days")
    # an item without a stated lead time keeps the learned distribution whole (Z = 1)
    z = pl.when(pl.col("stated").is_null()).then(1.0).otherwise(
        shrink_weight(pl.col("n_receipts"), prior_receipts))
    learned = both.with_columns(pl.col("prob") * z)
    prior = both.group_by("unique_id").agg(
        pl.col("source", "n_receipts", "stated").first()).filter(
        pl.col("stated").is_not_null()).with_columns(
        pl.col("stated").cast(pl.Int64).alias("lead_time_days"), (1.0 - z).alias("prob"))
    out = pl.concat([learned.select(cols), prior.select(cols)])
    return out.group_by("unique_id", "source", "n_receipts", "lead_time_days").agg(
        pl.col("prob").sum()).select(cols).sort("unique_id", "lead_time_days")


def supplier_lead_times(receipts: pl.DataFrame, terms: pl.DataFrame, *,
                        min_receipts: int = MIN_RECEIPTS,
                        prior_receipts: float = PRIOR_RECEIPTS) -> pl.DataFrame:
    """Stated vs measured per supplier: what a planner checks before trusting a supplier.

    Args:
        receipts: ``supplier, sku, order_date, receipt_date, qty`` (and ``po_id``).
        terms: ``supplier, sku, lead_time_days`` (the stated lead times).
        min_receipts: receipts needed before the measured lead time is used.
        prior_receipts: the stated lead time's weight (see :func:`shrink_weight`).

    Returns:
        ``supplier, stated_days, n_receipts, measured_mean_days, measured_p90_days,
        planned_mean_days, used`` — ``planned_mean_days`` is the blend the plan uses (the stated
        mean when ``used`` is false).
    """
    stated = terms.group_by("supplier").agg(
        pl.col("lead_time_days").cast(pl.Float64).mean().alias("stated_days"))
    cols = ["supplier", "stated_days", "n_receipts", "measured_mean_days", "measured_p90_days",
            "planned_mean_days", "used"]
    if receipts.is_empty():
        measured = pl.DataFrame(schema={"supplier": pl.Utf8, "n_receipts": pl.Int64,
                                        "mean_days": pl.Float64, qcol(0.9): pl.Int64})
    else:
        measured = lead_time_stats(receipts, levels=(0.9,)).filter(
            pl.col("level") == "supplier")
    out = stated.join(measured.select("supplier", "n_receipts", "mean_days", qcol(0.9)),
                      on="supplier", how="full", coalesce=True)
    z = shrink_weight(pl.col("n_receipts"), prior_receipts)
    used = pl.col("n_receipts").fill_null(0) >= min_receipts
    return out.with_columns(
        pl.col("n_receipts").fill_null(0), pl.col("mean_days").alias("measured_mean_days"),
        pl.col(qcol(0.9)).alias("measured_p90_days"), used.alias("used"),
        pl.when(used & pl.col("stated_days").is_not_null())
        .then(z * pl.col("mean_days") + (1 - z) * pl.col("stated_days"))
        .when(used).then(pl.col("mean_days"))
        .otherwise(pl.col("stated_days")).alias("planned_mean_days"),
    ).select(cols).sort("supplier")


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
