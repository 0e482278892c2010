"""The policies compared side by side, as (s, S) arrays over the simulated days.

Each takes the full demand history ``history`` (n_skus × n_days_total, integers), the index
``start`` of the first simulated day, and the setup; each decides on day t with data before t
only (the oracle excepted, by design).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.stats import norm

from stockpilot.simulate.engine import Policy, Setup

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def trailing_mean(history: IntArray, start: int, days: int, window: int = 28) -> FloatArray:
    """Mean daily demand over the ``window`` days before each simulated day."""
    c = np.concatenate([np.zeros((history.shape[0], 1)), np.cumsum(history, axis=1)], axis=1)
    t = np.arange(start, start + days)
    lo = np.maximum(t - window, 0)
    out: FloatArray = (c[:, t] - c[:, lo]) / np.maximum(t - lo, 1)
    return out


def erp_min_max(history: IntArray, start: int, days: int, setup: Setup, k: float) -> Policy:
    """ERP min/max: min = mean28 × L × k, max = mean28 × (L + R) × k (GLOSSARY)."""
    m = trailing_mean(history, start, days)
    return Policy(order_up_to=m * (setup.lead_time + setup.review) * k,
                  reorder_point=m * setup.lead_time * k)


def oracle(history: IntArray, start: int, days: int, setup: Setup) -> Policy:
    """Knows the future: on day t, S = demand of days t+1 … t+L+R−1.

    That is exactly what must be covered until the next order arrives, so after the warm-up
    nothing is lost and nothing is left over.
    """
    c = np.concatenate([np.zeros((history.shape[0], 1)), np.cumsum(history, axis=1)], axis=1)
    t = np.arange(start, start + days)
    hi = np.minimum(t + setup.lead_time + setup.review, history.shape[1])
    lo = np.minimum(t + 1, history.shape[1])
    return Policy(order_up_to=(c[:, hi] - c[:, lo]).astype(float))


def from_levels(levels_by_review: dict[int, FloatArray], n: int, days: int) -> Policy:
    """An order-up-to policy from S computed per review day (day index → S per SKU)."""
    s = np.zeros((n, days))
    for day, level in levels_by_review.items():
        s[:, day] = level
    return Policy(order_up_to=s)


def normal_level(mean_p: FloatArray, sigma_p: FloatArray, service: FloatArray) -> FloatArray:
    """Normal-theory order-up-to: μ_P + z(τ)·σ_P (Silver, Pyke & Thomas 2017, eq. 7.13)."""
    level: FloatArray = mean_p + norm.ppf(np.clip(service, 1e-6, 1 - 1e-6)) * sigma_p
    return level


def empirical_levels(history: IntArray, start: int, reviews: list[int], protection: int,
                     window: int, service: FloatArray) -> dict[int, FloatArray]:
    """S per review = the ``service`` quantile of the past P-day demand sums (per SKU).

    An intermittent-aware lead-time demand without a forecast: every run of P consecutive
    days within the ``window`` days before the review is one draw of protection-interval
    demand (the empirical, overlapping-blocks version of Willemain, Smart & Schwarz 2004,
    "A new approach to forecasting intermittent demand for service parts inventories").
    Lumpy demand keeps its lumps, which a mean-plus-error model smooths over.
    """
    c = np.concatenate([np.zeros((history.shape[0], 1)), np.cumsum(history, axis=1)], axis=1)
    out: dict[int, FloatArray] = {}
    for r in reviews:
        t = start + r  # days before the review day: the same information as the forecasts
        ends = np.arange(max(t - window, 0) + protection, t + 1)
        if len(ends) == 0:
            out[r] = np.zeros(history.shape[0])
            continue
        sums = np.sort(c[:, ends] - c[:, ends - protection], axis=1)
        pos = np.clip(service, 0.0, 1.0) * (sums.shape[1] - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, sums.shape[1] - 1)
        rows = np.arange(sums.shape[0])
        out[r] = sums[rows, lo] + (pos - lo) * (sums[rows, hi] - sums[rows, lo])
    return out
