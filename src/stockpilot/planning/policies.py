"""Policy parameters from lead-time demand quantiles; EOQ; order quantities with supplier rounding.

Order-up-to (R, S): every R days order max(0, S − inventory position), where S is the
τ-quantile of demand over the protection interval L + R (Silver, Pyke & Thomas 2017, §7.5 —
there with a normal model; here from the calibrated empirical distribution, no normality).
Safety stock = S − expected demand over L + R. Reorder point (s, Q): s is the τ-quantile of
demand over L (+ R for periodic review). EOQ = √(2DK/h) (Harris 1913).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from stockpilot.forecast.base import QUANTILES, qcol

Array = npt.NDArray[np.float64]


def quantile_at(ltd: pl.DataFrame, level: pl.Series | float) -> Array:
    """Interpolate each row's quantile columns at ``level`` (per row, or one for all).

    Levels outside [0.005, 0.995] are clamped to the nearest kept quantile.
    """
    grid = np.array(QUANTILES)
    values = ltd.select([qcol(t) for t in QUANTILES]).to_numpy()
    lv = np.broadcast_to(np.asarray(level, dtype=float), (values.shape[0],))
    lv = np.clip(lv, grid[0], grid[-1])
    idx = np.clip(np.searchsorted(grid, lv, side="right") - 1, 0, len(grid) - 2)
    lo, hi = grid[idx], grid[idx + 1]
    frac = (lv - lo) / (hi - lo)
    rows = np.arange(values.shape[0])
    out: Array = values[rows, idx] + frac * (values[rows, idx + 1] - values[rows, idx])
    return out


def eoq(annual_demand: Array, order_cost: Array, holding_cost: Array) -> Array:
    """Economic order quantity √(2DK/h) (Harris 1913); 0 where there is no demand."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.sqrt(2.0 * annual_demand * order_cost / holding_cost)
    return np.where((annual_demand > 0) & (holding_cost > 0), q, 0.0)


def round_to_supplier(qty: Array, moq: Array, pack: Array) -> Array:
    """Round positive needs up to the pack multiple, then up to the MOQ (itself in packs)."""
    need = np.maximum(qty, 0.0)
    packs = np.ceil(need / pack) * pack
    moq_packs = np.ceil(moq / pack) * pack
    return np.where(need > 0, np.maximum(packs, moq_packs), 0.0)


def newsvendor_fractile(price: Array, cost: Array, salvage: Array) -> Array:
    """Critical fractile (p − c) / (p − v): the service level that balances under/overage."""
    return np.clip((price - cost) / np.maximum(price - salvage, 1e-9), 0.0, 1.0)
