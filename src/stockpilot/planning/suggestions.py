"""Budgets over a plan's suggestions: rank lines by marginal value, defer those over budget.

The plan itself is made by :mod:`stockpilot.planning.pipeline` (one pipeline for ``plan`` and
``simulate``); this module only ranks and defers its lines.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import polars as pl

from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.planning.budget import select_within_budget

FORECAST = "forecast-quantiles"


def expected_shortfall(ltd: pl.DataFrame, stock: npt.NDArray[np.float64]
                       ) -> npt.NDArray[np.float64]:
    """E[(D − x)⁺] per row, D given by its quantile columns (a step approximation of the tail).

    The nine quantiles split [0, 1] into bands; each band's demand is taken at its quantile
    (the loss function of Silver, Pyke & Thomas 2017, §6.7, evaluated on the empirical law).
    """
    q = ltd.select([qcol(t) for t in QUANTILES]).to_numpy()
    edges = np.array([0.0, *[(a + b) / 2 for a, b in itertools.pairwise(QUANTILES)], 1.0])
    weight = np.diff(edges)
    return np.maximum(q - stock[:, None], 0.0) @ weight


def prioritise(plan: pl.DataFrame, ltd: pl.DataFrame, price: pl.DataFrame,
               budgets: dict[str, float], holding_rate: float = 0.25) -> pl.DataFrame:
    """Rank order lines by expected marginal value and keep those that fit each budget.

    Value of a line = avoided lost margin − holding cost over the protection interval:
    (price − cost) · (E[(D − IP)⁺] − E[(D − IP − Q)⁺]) − h · cost · Q · days / 365.
    The selection is a 0/1 knapsack per supplier solved exactly with HiGHS (SciPy ``milp``);
    lines over budget are deferred (``order_qty`` 0, ``deferred_qty`` the suggestion).
    """
    due = plan.filter(pl.col("order_qty") > 0).join(price, on="unique_id", how="left") \
        .with_columns((pl.col("order_value") / pl.col("order_qty")).alias("unit_cost"))
    if due.is_empty():
        return plan.with_columns(pl.lit(None, pl.Int64).alias("priority"),
                                 pl.lit(0, pl.Int64).alias("deferred_qty"),
                                 pl.lit(None, pl.Float64).alias("marginal_value"))
    law = due.select("unique_id").join(ltd, on="unique_id", how="left")
    ip = due["inventory_position"].to_numpy().astype(float)
    qty = due["order_qty"].to_numpy().astype(float)
    avoided = expected_shortfall(law, ip) - expected_shortfall(law, ip + qty)
    cost = due["unit_cost"].fill_null(0.0).to_numpy()
    margin = np.maximum(due["price"].fill_null(0.0).to_numpy() - cost, 0.0)
    days = due["protection_days"].to_numpy().astype(float)
    value = margin * avoided - holding_rate * cost * qty * days / 365.0
    lines = due.select("unique_id", "supplier", pl.col("order_qty").alias("qty"),
                       pl.col("unit_cost").fill_null(0.0)).with_columns(pl.Series("value", value))
    chosen = select_within_budget(lines, budgets).select(
        "unique_id", "in_budget", pl.col("rank").alias("priority"),
        pl.col("value").alias("marginal_value"))
    out = plan.join(chosen, on="unique_id", how="left")
    deferred = pl.col("in_budget").is_not_null() & ~pl.col("in_budget")
    return out.with_columns(
        pl.when(deferred).then(pl.col("order_qty")).otherwise(0).alias("deferred_qty"),
        pl.when(deferred).then(0).otherwise(pl.col("order_qty")).alias("order_qty"),
        pl.when(deferred).then(0.0).otherwise(pl.col("order_value")).alias("order_value"),
        pl.when(pl.col("in_budget").is_null()).then(pl.col("reason"))
        .when(pl.col("in_budget")).then(pl.format("{}; priority {} (value {}) within the "
                                                   "budget", pl.col("reason"),
                                                   pl.col("priority"),
                                                   pl.col("marginal_value").round(2)))
        .otherwise(pl.format("{}; priority {} (value {}) is over the budget → deferred",
                             pl.col("reason"), pl.col("priority"),
                             pl.col("marginal_value").round(2))).alias("reason"),
    ).drop("in_budget")
