"""Policy parameters from lead-time demand quantiles; EOQ; order quantities with supplier rounding.

Order-up-to (R, S): every R days order max(0, S − inventory position), where S is the
τ-quantile of demand over the protection interval L + R (Silver, Pyke & Thomas 2017, §7.5 —
there with a normal model; here from the calibrated empirical distribution, no normality).
Safety stock = S − expected demand over L + R. Reorder point (s, Q): s is the τ-quantile of
demand over L (+ R for periodic review). EOQ = √(2DK/h) (Harris 1913).

The normal-theory (s, Q), (R, S), (s, S) and newsvendor parameters below are checked against
stockpyl (Snyder & Shen's companion library) in ``tests/planning/test_stockpyl_oracle.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.stats import norm

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


# --- Normal-theory policy parameters, vectorised over SKUs -------------------------------------
#
# Notation (per SKU, arrays broadcast together): μ, σ = mean and standard deviation of demand
# per day, L = lead time in days, R = review period in days, τ = target cycle service level.
# Daily demands are taken as independent, so demand over P days has mean μP and standard
# deviation σ√P (Snyder & Shen 2019, "Fundamentals of Supply Chain Theory", 2nd ed., §4.3.4).
# Every policy returns the same four arrays so planners (and the simulator) can swap them.
# For intermittent items use the quantiles of :mod:`stockpilot.planning.leadtime_dist` instead
# of μP + zσ√P: the reorder point and order-up-to are then those quantiles, the rest unchanged.


@dataclass(frozen=True)
class PolicyLevels:
    """Parameters of a replenishment policy, one entry per SKU.

    Attributes:
        safety_stock: units kept above expected demand over the protection interval.
        reorder_point: order when inventory position ≤ this (``s`` / ``r``).
        order_up_to: highest inventory position an order aims for (``S``; ``s + Q`` for (s, Q)).
        order_qty: the fixed lot ``Q`` for (s, Q); the expected order ``μR`` for (R, S);
            ``S − s`` for (s, S); the one-off buy for the newsvendor.
    """

    safety_stock: Array
    reorder_point: Array
    order_up_to: Array
    order_qty: Array


def _z(service_level: Array | float) -> Array:
    """Standard normal quantile z(τ), with τ clipped away from 0 and 1."""
    z: Array = norm.ppf(np.clip(np.asarray(service_level, dtype=float), 1e-9, 1 - 1e-9))
    return z


def _f(x: Array | float) -> Array:
    return np.asarray(x, dtype=float)


def s_q_policy(mean_daily: Array, sd_daily: Array, lead_time_days: Array | float,
               service_level: Array | float, order_cost: Array | float,
               holding_cost_daily: Array | float) -> PolicyLevels:
    """Continuous-review (s, Q): reorder point for a cycle service level, Q = EOQ.

    s = μL + z(τ)·σ√L, Q = √(2·μ·K / h) — the "EOQ + SS" approximation (Snyder & Shen 2019,
    eqs. 3.4 and 5.21; the (s, Q) rule of Silver, Pyke & Thomas 2017, ch. 6). Safety stock
    = z(τ)·σ√L. ``order_up_to`` is s + Q, the highest position right after an order.

    Args:
        mean_daily: μ, mean demand per day.
        sd_daily: σ, standard deviation of daily demand.
        lead_time_days: L.
        service_level: τ, the cycle service level (probability of no stockout per cycle).
        order_cost: K, fixed cost per order.
        holding_cost_daily: h, cost of holding one unit for one day (same time unit as μ).
    """
    lead = _f(lead_time_days)
    ss = _z(service_level) * _f(sd_daily) * np.sqrt(lead)
    s = _f(mean_daily) * lead + ss
    q = eoq(_f(mean_daily), _f(order_cost), _f(holding_cost_daily))
    return PolicyLevels(ss, s, s + q, np.broadcast_to(q, s.shape).astype(float))


def r_s_policy(mean_daily: Array, sd_daily: Array, lead_time_days: Array | float,
               review_days: Array | float, service_level: Array | float) -> PolicyLevels:
    """Periodic-review order-up-to (R, S): every R days order max(0, S − position).

    S = μ(L + R) + z(τ)·σ√(L + R): the base-stock level over the protection interval
    L + R (Snyder & Shen 2019, eq. 4.30 over the lead-time-plus-review demand, as stockpyl's
    ``newsvendor_normal(..., lead_time=L)`` computes it for R = 1 period).
    Safety stock = z(τ)·σ√(L + R); the reorder point equals S (any shortfall triggers an
    order); the expected order is μR.
    """
    p = _f(lead_time_days) + _f(review_days)
    ss = _z(service_level) * _f(sd_daily) * np.sqrt(p)
    s_level = _f(mean_daily) * p + ss
    expected = np.broadcast_to(_f(mean_daily) * _f(review_days), s_level.shape).astype(float)
    return PolicyLevels(ss, s_level, s_level, expected)


def s_s_policy(mean_daily: Array, sd_daily: Array, lead_time_days: Array | float,
               review_days: Array | float, service_level: Array | float,
               order_cost: Array | float, holding_cost_daily: Array | float) -> PolicyLevels:
    """Periodic-review (s, S) with s for a service level and S = s + EOQ.

    At a review, if the position ≤ s, order up to S. s = μ(L + R) + z(τ)·σ√(L + R) and
    S = s + √(2·μ·K / h): the sequential heuristic that fixes S − s at the EOQ and then sets
    s for the service level (Silver, Pyke & Thomas 2017, ch. 6). For a cost-based choice see
    :func:`s_s_power_approximation`.
    """
    base = r_s_policy(mean_daily, sd_daily, lead_time_days, review_days, service_level)
    q = eoq(_f(mean_daily), _f(order_cost), _f(holding_cost_daily))
    return PolicyLevels(base.safety_stock, base.reorder_point, base.reorder_point + q,
                        np.broadcast_to(q, base.reorder_point.shape).astype(float))


def s_s_power_approximation(mean_period: Array, sd_period: Array, order_cost: Array | float,
                            holding_cost: Array | float,
                            stockout_cost: Array | float) -> PolicyLevels:
    """Cost-based (s, S) by the power approximation (Ehrhardt & Mosier 1984), per period.

    Q = 1.30·μ^0.494·(K/h)^0.506·(1 + σ²/μ²)^0.116, z = √(Q·h / (σ·p)),
    s = 0.973·μ + σ·(0.183/z + 1.063 − 2.192·z), S = s + Q (Snyder & Shen 2019,
    eqs. 4.77–4.80; zero lead time, one review per period, as stockpyl's
    ``s_s_power_approximation``). Safety stock = s − μ.
    """
    mu, sd = _f(mean_period), _f(sd_period)
    h, k, p = _f(holding_cost), _f(order_cost), _f(stockout_cost)
    q = 1.30 * mu**0.494 * (k / h) ** 0.506 * (1.0 + (sd / mu) ** 2) ** 0.116
    z = np.sqrt(q / sd * h / p)
    s = 0.973 * mu + sd * (0.183 / z + 1.063 - 2.192 * z)
    return PolicyLevels(s - mu, s, s + q, q)


def newsvendor_policy(mean: Array, sd: Array, price: Array | float, cost: Array | float,
                      salvage: Array | float = 0.0) -> PolicyLevels:
    """One-off buy (perishables, seasonal lots): the critical-fractile quantile of demand.

    Q* = μ + z(τ*)·σ with τ* = (p − c) / (p − v) = underage / (underage + overage)
    (Snyder & Shen 2019, eqs. 4.24 and 4.30; underage p − c, overage c − v). ``mean`` and
    ``sd`` describe demand over the selling period. Safety stock = Q* − μ; the reorder point
    and the order-up-to both equal Q* (a single order from zero).
    """
    tau = newsvendor_fractile(_f(price), _f(cost), _f(salvage))
    q = np.maximum(_f(mean) + _z(tau) * _f(sd), 0.0)
    return PolicyLevels(q - _f(mean), q, q, q)
