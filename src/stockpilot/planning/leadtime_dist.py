"""Lead-time demand distributions by characteristic functions: compound Poisson, random lead time.

Demand over a protection interval of L days, with daily demands independent and alike:

* compound Poisson (intermittent items): demand occasions arrive at rate λ per day
  (λ = 1 / ADI, Syntetos & Boylan 2005), each of a size drawn from a size pmf f; the total over
  L days has probability generating function G(z) = exp(λL·(F(z) − 1)) (Feller 1968, XII.2;
  Panjer 1981 gives the same pmf by recursion). We evaluate G on the unit circle with the
  FFT and invert it — all SKUs of a batch at once, O(n·M log M) for a grid of M units instead
  of the O(n·M²) of the recursion (Embrechts & Frei 2009, "Panjer recursion versus FFT").
* a random lead time L with pmf p_l: the total is the mixture Σ_l p_l·φ(ω)^l where φ is the
  characteristic function of one day's demand (any daily pmf, or the compound Poisson one).
  Its mean is μ·E[L] and its variance E[L]·σ² + μ²·Var(L) (Silver, Pyke & Thomas 2017, ch. 6,
  random lead times).

The grid must hold nearly all the mass (what lies beyond wraps around): :func:`grid_sizes`
makes it mean + 12 standard deviations, at least twice the largest size, rounded up to a power
of two. :func:`lead_time_demand` labels per SKU which method it used.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.stats import norm

from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.forecast.classify import ADI_CUT, demand_classes

Array = npt.NDArray[np.float64]
CArray = npt.NDArray[np.complex128]
Method = Literal["empirical-quantiles", "compound-poisson", "normal"]
SizeModel = Literal["empirical", "geometric", "logarithmic"]
_CELLS_PER_BATCH = 4_000_000  # n × M complex cells per FFT batch (~64 MB)


def one_hot_lead_time(days: npt.ArrayLike) -> Array:
    """A lead-time pmf matrix (n, max + 1) with all mass on each SKU's fixed ``days``."""
    d = np.asarray(days, dtype=np.int64)
    out = np.zeros((d.size, int(d.max()) + 1))
    out[np.arange(d.size), d] = 1.0
    return out


def grid_sizes(mean: Array, var: Array, width: int) -> npt.NDArray[np.int64]:
    """Per row, the power of two ≥ mean + 12·sd + 1 and ≥ 2·width (see module docs)."""
    need = np.maximum(mean + 12.0 * np.sqrt(np.maximum(var, 0.0)), max(2.0 * width, 16.0))
    out: npt.NDArray[np.int64] = (2 ** np.ceil(np.log2(need + 1))).astype(np.int64)
    return out


def mixed_sum_pmf(day_cf: CArray, lead_time_pmf: Array, grid: int) -> Array:
    """Probability mass (n, grid) of demand over a random number of days: irfft of Σ_l p_l·φ^l.

    Args:
        day_cf: ``rfft`` of one day's demand pmf on the grid, (n, grid // 2 + 1).
        lead_time_pmf: P(L = l) for l = 0 … (columns), (n, l_max + 1).
        grid: the FFT length.
    """
    acc = np.zeros_like(day_cf)
    power = np.ones_like(day_cf)
    for lag in range(lead_time_pmf.shape[1]):
        if lag:
            power = power * day_cf
        weight = lead_time_pmf[:, lag]
        if weight.any():
            acc += weight[:, None] * power
    pmf: Array = np.clip(np.fft.irfft(acc, n=grid, axis=1), 0.0, None)  # FFT round-off < 0
    total = pmf.sum(axis=1, keepdims=True)
    return pmf / np.where(total > 0, total, 1.0)


def compound_poisson_pmf(rate_daily: Array, size_pmf: Array, lead_time_pmf: Array,
                         grid: int) -> Array:
    """Probability mass (n, grid) of compound-Poisson demand over a (possibly random) lead time.

    One day's pgf is exp(λ·(F(z) − 1)) (Feller 1968, XII.2); see :func:`mixed_sum_pmf`.

    Args:
        rate_daily: λ, demand occasions per day, (n,).
        size_pmf: P(size = j) for j = 0 … (columns; column 0 is normally 0), (n, width).
        lead_time_pmf: see :func:`mixed_sum_pmf`.
        grid: FFT length, > the width of ``size_pmf``.
    """
    f = np.fft.rfft(size_pmf, n=grid, axis=1)
    day_cf: CArray = np.exp(rate_daily[:, None] * (f - 1.0))
    return mixed_sum_pmf(day_cf, lead_time_pmf, grid)


def iid_sum_pmf(daily_pmf: Array, lead_time_pmf: Array, grid: int) -> Array:
    """Probability mass (n, grid) of a sum over L days of independent days ``daily_pmf``."""
    return mixed_sum_pmf(np.fft.rfft(daily_pmf, n=grid, axis=1), lead_time_pmf, grid)


def pmf_quantiles(pmf: Array, levels: tuple[float, ...]) -> Array:
    """Smallest integer x with P(X ≤ x) ≥ τ, per row and level: shape (n, len(levels))."""
    cdf = np.cumsum(pmf, axis=1)
    return np.stack([(cdf < t - 1e-12).sum(axis=1) for t in levels], axis=1).astype(float)


def _moments(pmf: Array) -> tuple[Array, Array]:
    j = np.arange(pmf.shape[1], dtype=float)
    mean = pmf @ j
    return mean, pmf @ j**2 - mean**2


def _lead_moments(lead_time_pmf: Array) -> tuple[Array, Array]:
    return _moments(lead_time_pmf)


def sum_quantiles(daily_pmf: Array | None, lead_time_pmf: Array, levels: tuple[float, ...],
                  *, rate_daily: Array | None = None,
                  size_pmf: Array | None = None) -> tuple[Array, Array]:
    """Mean (n,) and quantiles (n, levels) of demand over a random lead time, in batches.

    Give either ``daily_pmf`` (independent days) or ``rate_daily`` and ``size_pmf``
    (compound Poisson). Rows are batched by grid size so one lumpy SKU does not blow up the
    grid of all the others.
    """
    compound = daily_pmf is None
    base = size_pmf if compound else daily_pmf
    assert base is not None
    m1, m2 = _moments(base)
    if compound:
        assert rate_daily is not None
        mu, var = rate_daily * m1, rate_daily * (m2 + m1**2)  # λE[X], λE[X²]
    else:
        mu, var = m1, m2
    el, vl = _lead_moments(lead_time_pmf)
    mean, total_var = mu * el, el * var + mu**2 * vl
    grids = grid_sizes(mean, total_var, base.shape[1])
    out = np.zeros((len(mean), len(levels)))
    for g in np.unique(grids):
        rows = np.flatnonzero(grids == g)
        step = max(1, _CELLS_PER_BATCH // int(g))
        for lo in range(0, rows.size, step):
            r = rows[lo:lo + step]
            if compound:
                assert rate_daily is not None
                pmf = compound_poisson_pmf(rate_daily[r], base[r], lead_time_pmf[r], int(g))
            else:
                pmf = iid_sum_pmf(base[r], lead_time_pmf[r], int(g))
            out[r] = pmf_quantiles(pmf, levels)
    return mean, out


# --- size distributions -----------------------------------------------------------------------

def size_pmf_geometric(mean_size: Array, width: int) -> Array:
    """Geometric sizes on 1, 2, …: P(j) = p(1 − p)^(j−1), p = 1 / mean (method of moments)."""
    p = 1.0 / np.maximum(mean_size, 1.0)
    j = np.arange(width, dtype=float)
    pmf: Array = np.where(j >= 1, p[:, None] * (1.0 - p[:, None]) ** np.maximum(j - 1, 0), 0.0)
    out: Array = pmf / pmf.sum(axis=1, keepdims=True)
    return out


def size_pmf_logarithmic(mean_size: Array, width: int) -> Array:
    """Logarithmic sizes P(j) = −θ^j / (j·ln(1 − θ)), θ fitted to the mean by bisection.

    Poisson occasions with logarithmic sizes give negative-binomial totals (Quenouille 1949),
    the classic model for lumpy demand. The mean −θ / ((1 − θ)·ln(1 − θ)) rises from 1 to ∞.
    """
    target = np.maximum(mean_size, 1.0 + 1e-9)
    lo, hi = np.full_like(target, 1e-12), np.full_like(target, 1 - 1e-12)
    for _ in range(80):  # vectorised bisection on θ
        mid = (lo + hi) / 2
        m = -mid / ((1 - mid) * np.log1p(-mid))
        lo, hi = np.where(m < target, mid, lo), np.where(m < target, hi, mid)
    theta = (lo + hi)[:, None] / 2
    j = np.arange(width, dtype=float)
    with np.errstate(divide="ignore"):
        pmf: Array = np.where(j >= 1, -(theta ** j) / (np.maximum(j, 1) * np.log1p(-theta)), 0.0)
    out: Array = pmf / pmf.sum(axis=1, keepdims=True)
    return out


def size_pmf_empirical(sku_index: npt.NDArray[np.int64], sizes: Array, n: int,
                       width: int) -> Array:
    """Histogram of the non-zero sizes per SKU (sizes rounded up to whole units, capped)."""
    j = np.clip(np.ceil(sizes).astype(np.int64), 1, width - 1)
    pmf = np.zeros((n, width))
    np.add.at(pmf, (sku_index, j), 1.0)
    total = pmf.sum(axis=1, keepdims=True)
    return pmf / np.where(total > 0, total, 1.0)


# --- per-SKU method choice on a history frame ---------------------------------------------------

def choose_method(daily: pl.DataFrame, days: int, min_windows: int = 20) -> pl.DataFrame:
    """``unique_id, adi, method``: compound Poisson for ADI ≥ 1.32, else empirical or normal.

    Intermittent series (ADI ≥ 1.32, Syntetos & Boylan 2005) get the compound Poisson; the
    others get empirical quantiles of their own L-day sums when the history holds at least
    ``min_windows`` non-overlapping L-day windows, and the normal model otherwise.
    """
    cls = demand_classes(daily).select("unique_id", "adi", "n_days")
    method = (pl.when(pl.col("adi").is_null() | (pl.col("adi") >= ADI_CUT))
              .then(pl.lit("compound-poisson"))
              .when(pl.col("n_days") // days >= min_windows).then(pl.lit("empirical-quantiles"))
              .otherwise(pl.lit("normal")))
    return cls.with_columns(method.alias("method")).select("unique_id", "adi", "method")


def _empirical(daily: pl.DataFrame, days: int, levels: tuple[float, ...]) -> pl.DataFrame:
    sums = daily.sort("unique_id", "ds").with_columns(
        pl.col("y").rolling_sum(days).over("unique_id").alias("s")).drop_nulls("s")
    return sums.group_by("unique_id").agg(
        (pl.col("y").mean() * days).alias("mean"),
        *[pl.col("s").quantile(t, interpolation="linear").alias(qcol(t)) for t in levels])


def _normal(daily: pl.DataFrame, days: int, levels: tuple[float, ...]) -> pl.DataFrame:
    # μL + z(τ)·σ√L, daily demands independent (Silver, Pyke & Thomas 2017, ch. 6)
    st = daily.group_by("unique_id").agg(pl.col("y").mean().alias("mu"),
                                         pl.col("y").std(ddof=1).fill_null(0.0).alias("sd"))
    return st.select("unique_id", (pl.col("mu") * days).alias("mean"), *[
        (pl.col("mu") * days + float(norm.ppf(t)) * pl.col("sd") * np.sqrt(days))
        .clip(lower_bound=0.0).alias(qcol(t)) for t in levels])


def _size_pmfs(nz_index: npt.NDArray[np.int64], nz_y: Array, n: int, mean_size: Array,
               size_model: SizeModel, max_size: int) -> Array:
    """Size pmfs (n, width) of the rows: the empirical histogram or a fit to the mean size."""
    biggest = float(nz_y.max()) if nz_y.size else 1.0
    width = int(min(max_size, max(2.0, np.ceil(biggest) + 1)))
    if size_model == "empirical":
        return size_pmf_empirical(nz_index, nz_y, n, width)
    fit = size_pmf_geometric if size_model == "geometric" else size_pmf_logarithmic
    # wide enough that the truncated tail is negligible (geometric: (1 − 1/m)^(40m) ≈ e^−40)
    return fit(mean_size, min(max_size, max(width, 40 * int(np.ceil(mean_size.max())))))


def _compound_by_size(daily: pl.DataFrame, days: int, levels: tuple[float, ...],
                      size_model: SizeModel, max_size: int) -> pl.DataFrame:
    """Compound Poisson law per SKU, SKUs grouped by their largest day within a power of two.

    The size pmf matrix is (SKUs × largest size); grouping keeps one big seller from making
    it wide for every slow one. The per-SKU statistics (rate, non-zero sizes) are computed
    once for the whole frame and split by group in numpy: per-group polars joins and sorts
    were ~80% of a 30,000-SKU plan's time.
    """
    cls = demand_classes(daily)  # sorted by unique_id, every id of ``daily``
    ids = cls["unique_id"]
    rate = (cls["nonzero_days"] / cls["n_days"]).fill_null(0.0).fill_nan(0.0).to_numpy()
    nz = daily.filter(pl.col("y") > 0).select("unique_id", "y").join(
        cls.select("unique_id").with_row_index("i"), on="unique_id")
    nz_i = nz["i"].to_numpy().astype(np.int64)
    nz_y = nz["y"].to_numpy().astype(float)
    n = len(ids)
    count = np.bincount(nz_i, minlength=n)
    mean_size = np.where(count > 0, np.bincount(nz_i, weights=nz_y, minlength=n)
                         / np.maximum(count, 1), 1.0)
    top = np.ones(n)
    np.maximum.at(top, nz_i, nz_y)
    bucket = np.ceil(np.log2(top))
    mean_out = np.zeros(n)
    q_out = np.zeros((n, len(levels)))
    for b in np.unique(bucket):
        rows = np.flatnonzero(bucket == b)
        local = np.full(n, -1, dtype=np.int64)
        local[rows] = np.arange(rows.size)
        keep = local[nz_i] >= 0
        sizes = _size_pmfs(local[nz_i[keep]], nz_y[keep], rows.size, mean_size[rows],
                           size_model, max_size)
        mean_out[rows], q_out[rows] = sum_quantiles(
            None, one_hot_lead_time(np.full(rows.size, days)), levels,
            rate_daily=rate[rows], size_pmf=sizes)
    return pl.DataFrame({"unique_id": ids, "mean": mean_out,
                         **{qcol(t): q_out[:, i] for i, t in enumerate(levels)}})


def lead_time_demand(daily: pl.DataFrame, days: int, *, levels: tuple[float, ...] = QUANTILES,
                     size_model: SizeModel = "empirical", min_windows: int = 20,
                     max_size: int = 10_000) -> pl.DataFrame:
    """``unique_id, days, method, mean, q…`` of demand over the next ``days`` days.

    Args:
        daily: gap-free history ``unique_id, ds, y``.
        days: the protection interval (lead time + review) in days.
        levels: quantile levels wanted.
        size_model: sizes for the compound Poisson: the empirical non-zero sizes, or a
            geometric / logarithmic fit to their mean.
        min_windows: non-overlapping windows needed for empirical quantiles.
        max_size: cap on one day's size (units) in the grid.
    """
    chosen = choose_method(daily, days, min_windows)
    parts = []
    for method, fn in (("compound-poisson", None), ("empirical-quantiles", _empirical),
                       ("normal", _normal)):
        part = daily.join(chosen.filter(pl.col("method") == method), on="unique_id", how="semi")
        if part.is_empty():
            continue
        got = (_compound_by_size(part, days, levels, size_model, max_size) if fn is None
               else fn(part, days, levels))
        parts.append(got.with_columns(pl.lit(method).alias("method")))
    out = pl.concat([p.select("unique_id", "method", "mean", *[qcol(t) for t in levels])
                     for p in parts])
    return out.with_columns(pl.lit(days).alias("days")).select(
        "unique_id", "days", "method", "mean", *[qcol(t) for t in levels]).sort("unique_id")
