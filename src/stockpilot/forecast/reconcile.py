"""Coherent totals: reconcile item, group (store-department) and total forecasts.

Pure. The hierarchy is total → groups → items (``unique_id``). Base forecasts come from the
items' chosen models and from a model fitted on each aggregate's own history; Nixtla's
hierarchicalforecast reconciles them (wrapped, not rewritten):

* ``bottom_up`` — aggregates are the sums of the item forecasts (the aggregate models are
  ignored);
* ``mint_shrink`` — MinT (Wickramasuriya, Athanasopoulos & Hyndman 2019) with the shrunk
  covariance of the rolling-origin errors of every level (Schäfer & Strimmer 2005 shrinkage),
  which moves item forecasts towards what the better-behaved aggregate models say.

Only the point forecasts are reconciled; each item's quantiles move with its mean (clipped at
zero, kept monotone), so their spread still comes from that item's own errors.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.conformal import monotone

METHODS = ("bottom_up", "mint_shrink")


def _matrix(df: pl.DataFrame, ids: list[str], keys: list[str], value: str) -> np.ndarray:
    """``value`` as (len(ids), len(keys)) in that order (missing cells NaN)."""
    wide = df.with_columns(pl.concat_str([pl.col(k).cast(pl.Utf8) for k in ("cutoff", "ds")
                                          if k in df.columns], separator="|").alias("_k")) \
        .pivot(on="_k", index="unique_id", values=value)
    wide = pl.DataFrame({"unique_id": ids}).join(wide, on="unique_id", how="left")
    return wide.select([pl.col(k) if k in wide.columns else pl.lit(None).alias(k)
                        for k in keys]).cast(pl.Float64).to_numpy()


def _keys(df: pl.DataFrame) -> list[str]:
    cols = [k for k in ("cutoff", "ds") if k in df.columns]
    out = df.select(pl.concat_str([pl.col(k).cast(pl.Utf8) for k in cols], separator="|")
                    .alias("_k"))["_k"].unique().sort()
    return out.to_list()


def reconcile(items_fc: pl.DataFrame, items_cv: pl.DataFrame, groups: pl.DataFrame,
              aggregates_fc: pl.DataFrame, aggregates_cv: pl.DataFrame,
              method: str = "mint_shrink") -> pl.DataFrame:
    """Item forecasts made coherent with the aggregate levels.

    Args:
        items_fc: ``unique_id, ds, mean, q…`` per item.
        items_cv: ``unique_id, cutoff, ds, y, mean``: the items' rolling-origin errors.
        groups: ``unique_id, group``: each item's group.
        aggregates_fc: ``unique_id, ds, mean`` for ``"total"`` and every group name.
        aggregates_cv: ``unique_id, cutoff, ds, y, mean`` for the same aggregates, on the
            items' cutoffs.
        method: ``bottom_up`` or ``mint_shrink``.

    Returns:
        ``items_fc`` with ``mean`` (and the quantiles, by the same shift) reconciled.
    """
    if method not in METHODS:
        raise StockpilotError(f"unknown reconciliation {method!r}: one of {', '.join(METHODS)}")
    from hierarchicalforecast.methods import BottomUp, MinTrace

    items = items_fc["unique_id"].unique().sort().to_list()
    g = groups.filter(pl.col("unique_id").is_in(items))
    names = g["group"].unique().sort().to_list()
    member = dict(g.iter_rows())
    S = np.vstack([np.ones(len(items)),
                   *[[float(member.get(i) == n) for i in items] for n in names],
                   np.eye(len(items))])
    agg_ids = ["total", *names]
    days = _keys(items_fc.select("ds"))
    y_hat = np.vstack([_matrix(aggregates_fc, agg_ids, days, "mean"),
                       _matrix(items_fc, items, days, "mean")])
    if np.isnan(y_hat).any():
        raise StockpilotError("reconciliation needs a forecast for every series and day")
    if method == "bottom_up":
        out = BottomUp().fit_predict(S=S, y_hat=y_hat)["mean"]
    else:
        cv_keys = _keys(items_cv)
        resid = [_matrix(aggregates_cv, agg_ids, cv_keys, v) for v in ("y", "mean")]
        resid_items = [_matrix(items_cv, items, cv_keys, v) for v in ("y", "mean")]
        y_in = np.nan_to_num(np.vstack([resid[0], resid_items[0]]))
        y_hat_in = np.nan_to_num(np.vstack([resid[1], resid_items[1]]))
        out = MinTrace(method="mint_shrink").fit_predict(
            S=S, y_hat=y_hat, y_insample=y_in, y_hat_insample=y_hat_in)["mean"]
    bottom = np.clip(out[len(agg_ids):], 0.0, None)
    new = pl.DataFrame({"unique_id": np.repeat(items, len(days)),
                        "ds": np.tile(items_fc["ds"].unique().sort().to_numpy(), len(items)),
                        "_new": bottom.reshape(-1)})
    shifted = items_fc.join(new, on=["unique_id", "ds"], how="left").with_columns(
        (pl.col("_new") - pl.col("mean")).alias("_d"))
    shifted = shifted.with_columns(
        pl.col("_new").alias("mean"),
        *[(pl.col(c) + pl.col("_d")).clip(lower_bound=0.0).alias(c)
          for c in QUANTILE_COLUMNS if c in items_fc.columns]).drop("_new", "_d")
    return monotone(shifted, [c for c in QUANTILE_COLUMNS if c in shifted.columns])
