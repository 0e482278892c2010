"""Budget-constrained purchase list: choose order lines to maximise value within budgets.

Each candidate line is one quantity option for one SKU (several rows per ``unique_id`` are
alternatives, at most one is bought), with its cost (qty × unit_cost) and expected marginal
value (avoided lost margin − holding cost, from the planner). Budgets apply per value of a key
column (a supplier, a period). The selection is the 0-1 multiple-choice knapsack

    max Σ_i v_i·x_i  s.t.  Σ_{i ∈ g} c_i·x_i ≤ B_g for every budget g,
                           Σ_{i ∈ SKU k} x_i ≤ 1 for every SKU k,  x_i ∈ {0, 1}

(Kellerer, Pferschy & Pisinger 2004, "Knapsack Problems", ch. 11), solved exactly by
``scipy.optimize.milp`` (HiGHS branch and bound, relative gap 0).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from stockpilot.errors import StockpilotError


class BudgetSolveFailed(StockpilotError):
    """The solver did not return an optimal selection (time limit, numerical trouble)."""

    status = 500
    title = "Budget selection failed"


def _constraints(lines: pl.DataFrame, key: str, budgets: dict[str, float]) -> LinearConstraint:
    n = lines.height
    cost = lines["line_cost"].to_numpy()
    groups = lines[key].cast(pl.Utf8).to_numpy()
    keys = sorted(set(groups.tolist()))
    g_idx = np.array([keys.index(g) for g in groups], dtype=np.int64)
    sku_codes = (lines["unique_id"].rank("dense") - 1).to_numpy().astype(np.int64)
    rows = np.concatenate([g_idx, len(keys) + sku_codes])
    cols = np.concatenate([np.arange(n), np.arange(n)])
    vals = np.concatenate([cost, np.ones(n)])
    a = sparse.csr_array((vals, (rows, cols)), shape=(len(keys) + int(sku_codes.max()) + 1, n))
    cap = [budgets.get(g, np.inf) for g in keys]
    upper = np.concatenate([cap, np.ones(a.shape[0] - len(keys))])
    return LinearConstraint(a, -np.inf, upper)


def select_within_budget(lines: pl.DataFrame, budgets: dict[str, float], *,
                         key: str = "supplier", time_limit_s: float = 60.0) -> pl.DataFrame:
    """The candidate lines with ``line_cost, in_budget, rank, cumulative_cost``.

    Args:
        lines: ``unique_id, <key>, qty, unit_cost, value``; rows sharing a ``unique_id`` are
            alternative quantities of which at most one is chosen.
        budgets: spend limit per value of ``key``; a key without a budget is unlimited.
        key: the column budgets apply to (e.g. ``supplier`` or ``period``).
        time_limit_s: solver time limit.

    Returns:
        Every candidate row, ranked: chosen lines first (rank 1 …, by value per unit of
        spend, highest first), then the rest the same way; ``cumulative_cost`` is the spend
        of the chosen lines of the same key up to and including this one.

    Raises:
        BudgetSolveFailed: HiGHS did not prove an optimum within the time limit.
    """
    df = lines.with_columns((pl.col("qty") * pl.col("unit_cost")).cast(pl.Float64)
                            .alias("line_cost"))
    if df.is_empty():
        return df.with_columns(pl.lit(False).alias("in_budget"), pl.lit(0).alias("rank"),
                               pl.lit(0.0).alias("cumulative_cost"))
    value = df["value"].to_numpy().astype(float)
    upper = (value > 0).astype(float)  # a line that loses value is never worth buying
    res = milp(-value, constraints=_constraints(df, key, budgets),
               integrality=np.ones(df.height), bounds=Bounds(0.0, upper),
               options={"mip_rel_gap": 0.0, "time_limit": time_limit_s})
    if res.status != 0 or res.x is None:
        raise BudgetSolveFailed(f"budget selection: {res.message}")
    chosen = np.round(res.x).astype(bool)
    density = value / np.maximum(df["line_cost"].to_numpy(), 1e-12)
    order = np.lexsort((-density, ~chosen))  # chosen first, then by value per unit of spend
    rank = np.empty(df.height, dtype=np.int64)
    rank[order] = np.arange(1, df.height + 1)
    out = df.with_columns(pl.Series("in_budget", chosen), pl.Series("rank", rank)).sort("rank")
    spent = pl.when(pl.col("in_budget")).then(pl.col("line_cost")).otherwise(0.0)
    return out.with_columns(spent.cum_sum().over(key).alias("cumulative_cost"))
