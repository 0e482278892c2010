"""Compound-Poisson and random-lead-time demand: FFT against Monte Carlo and Panjer's recursion."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from stockpilot.forecast.base import qcol
from stockpilot.planning.leadtime_dist import (
    compound_poisson_pmf,
    grid_sizes,
    iid_sum_pmf,
    lead_time_demand,
    one_hot_lead_time,
    pmf_quantiles,
    size_pmf_geometric,
    size_pmf_logarithmic,
    sum_quantiles,
)

LEVELS = (0.5, 0.8, 0.9, 0.95, 0.99)
DRAWS = 200_000


def mc_compound(rng, lam_total: float, size_pmf: np.ndarray) -> np.ndarray:
    counts = rng.poisson(lam_total, DRAWS)
    sizes = rng.choice(size_pmf.size, size=counts.sum(), p=size_pmf)
    return np.bincount(np.repeat(np.arange(DRAWS), counts), weights=sizes, minlength=DRAWS)


def panjer(lam_total: float, f: np.ndarray, n: int) -> np.ndarray:
    # Panjer (1981) for Poisson counts: g0 = exp(−λ(1 − f0)), g_s = λ/s Σ_j j f_j g_{s−j}
    g = np.zeros(n)
    g[0] = np.exp(-lam_total * (1 - f[0]))
    j = np.arange(len(f))
    for s in range(1, n):
        k = j[1:min(s, len(f) - 1) + 1]
        g[s] = lam_total / s * np.sum(k * f[k] * g[s - k])
    return g


def size_cases(rng) -> list[np.ndarray]:
    empirical = np.bincount(rng.geometric(0.25, 40), minlength=1).astype(float)
    empirical[0] = 0
    return [empirical / empirical.sum(),
            size_pmf_geometric(np.array([3.0]), 60)[0],
            size_pmf_logarithmic(np.array([4.0]), 200)[0],
            np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1.0])]  # always 12 (a case pack)


@pytest.mark.parametrize("lam,days", [(0.05, 7), (0.2, 14), (0.6, 28), (0.1, 3)])
def test_compound_poisson_matches_monte_carlo(lam, days):
    rng = np.random.default_rng(int(lam * 1000) + days)
    for f in size_cases(rng):
        mean, q = sum_quantiles(None, one_hot_lead_time([days]), LEVELS,
                                rate_daily=np.array([lam]), size_pmf=f[None, :])
        sample = mc_compound(rng, lam * days, f)
        mc_q = np.quantile(sample, LEVELS, method="inverted_cdf")
        assert mean[0] == pytest.approx(lam * days * (np.arange(f.size) @ f))
        # a quantile of a discrete law can sit on a step; allow one unit or 3 %
        assert np.all(np.abs(q[0] - mc_q) <= np.maximum(1.0, 0.03 * mc_q)), (q[0], mc_q)
        grid = int(grid_sizes(mean, mean * 40, f.size)[0])
        cdf = np.cumsum(compound_poisson_pmf(np.array([lam]), f[None, :],
                                             one_hot_lead_time([days]), grid)[0])
        emp = np.searchsorted(np.sort(sample), np.arange(grid), side="right") / DRAWS
        assert np.max(np.abs(cdf - emp)) < 0.006  # DKW bound at 200k draws is ~0.004 (99.9 %)


def test_fft_equals_panjer_recursion():
    rng = np.random.default_rng(5)
    for f in size_cases(rng):
        for lam_total in (0.3, 2.5, 9.0):
            grid = 512
            ours = compound_poisson_pmf(np.array([lam_total]), f[None, :],
                                        one_hot_lead_time([1]), grid)[0]
            np.testing.assert_allclose(ours[:200], panjer(lam_total, f, 200), atol=1e-10)


def test_vectorised_rows_are_independent():
    rng = np.random.default_rng(9)
    sizes = size_cases(rng)
    width = max(s.size for s in sizes)
    f = np.stack([np.pad(s, (0, width - s.size)) for s in sizes])
    lam = np.array([0.05, 0.3, 0.1, 0.5])
    days = np.array([7, 14, 30, 2])
    _, together = sum_quantiles(None, one_hot_lead_time(days), LEVELS, rate_daily=lam,
                                size_pmf=f)
    for i in range(4):
        _, alone = sum_quantiles(None, one_hot_lead_time(days[i:i + 1]), LEVELS,
                                 rate_daily=lam[i:i + 1], size_pmf=f[i:i + 1])
        np.testing.assert_array_equal(together[i], alone[0])


def test_random_lead_time_mixture_moments_and_monte_carlo():
    rng = np.random.default_rng(17)
    daily = np.bincount(rng.poisson(4, 5000), minlength=30)[:30].astype(float)
    daily /= daily.sum()
    lead = np.zeros(16)
    lead[[5, 7, 8, 15]] = [0.2, 0.5, 0.2, 0.1]  # a supplier usually 7-8 days, sometimes 15
    pmf = iid_sum_pmf(daily[None, :], lead[None, :], 512)[0]
    j = np.arange(512)
    mu = np.arange(30) @ daily
    var = np.arange(30) ** 2 @ daily - mu**2
    el, vl = np.arange(16) @ lead, np.arange(16) ** 2 @ lead - (np.arange(16) @ lead) ** 2
    assert pmf @ j == pytest.approx(mu * el, rel=1e-9)
    assert pmf @ j**2 - (pmf @ j) ** 2 == pytest.approx(el * var + mu**2 * vl, rel=1e-9)
    ls = rng.choice(16, size=DRAWS, p=lead)
    draws = rng.choice(30, size=(DRAWS, 15), p=daily)
    sample = np.where(np.arange(15)[None, :] < ls[:, None], draws, 0).sum(axis=1)
    got = pmf_quantiles(pmf[None, :], LEVELS)[0]
    assert np.all(np.abs(got - np.quantile(sample, LEVELS, method="inverted_cdf")) <= 1)


def test_size_fits_match_their_mean():
    m = np.array([1.5, 3.0, 10.0])
    for fit in (size_pmf_geometric, size_pmf_logarithmic):
        pmf = fit(m, 2000)
        assert pmf[:, 0].max() == 0
        np.testing.assert_allclose(pmf @ np.arange(2000), m, rtol=1e-6)


def history() -> pl.DataFrame:
    rng = np.random.default_rng(2)
    start = date(2023, 1, 1)
    rows = {"smooth_long": rng.poisson(30, 400).astype(float),
            "smooth_short": rng.poisson(30, 60).astype(float),
            "lumpy": (rng.random(400) < 0.1) * rng.geometric(0.2, 400).astype(float)}
    return pl.concat([pl.DataFrame({"unique_id": uid,
                                    "ds": [start + timedelta(days=i) for i in range(len(y))],
                                    "y": y}) for uid, y in rows.items()])


def test_lead_time_demand_labels_and_values():
    daily = history()
    got = {r["unique_id"]: r for r in lead_time_demand(daily, 14).iter_rows(named=True)}
    assert got["smooth_long"]["method"] == "empirical-quantiles"
    assert got["smooth_short"]["method"] == "normal"
    assert got["lumpy"]["method"] == "compound-poisson"
    long_y = daily.filter(pl.col("unique_id") == "smooth_long")["y"].to_numpy()
    sums = np.convolve(long_y, np.ones(14), mode="valid")
    assert got["smooth_long"][qcol(0.975)] == pytest.approx(np.quantile(sums, 0.975))
    short_y = daily.filter(pl.col("unique_id") == "smooth_short")["y"].to_numpy()
    assert got["smooth_short"][qcol(0.835)] == pytest.approx(
        14 * short_y.mean() + 0.9741138 * short_y.std(ddof=1) * np.sqrt(14), rel=1e-6)
    lumpy = got["lumpy"]
    qs = [lumpy[qcol(t)] for t in (0.005, 0.25, 0.5, 0.75, 0.975, 0.995)]
    assert qs == sorted(qs) and qs[-1] > lumpy["mean"] > 0
    for model in ("geometric", "logarithmic"):
        alt = lead_time_demand(daily, 14, size_model=model).filter(pl.col("unique_id") == "lumpy")
        assert alt["mean"][0] == pytest.approx(lumpy["mean"], rel=1e-4)


def test_small_and_large_intermittent_skus_do_not_interfere():
    rng = np.random.default_rng(12)
    start = date(2023, 1, 1)
    ys = {"tiny": (rng.random(300) < 0.2) * rng.integers(1, 4, 300),
          "bulk": (rng.random(300) < 0.1) * rng.integers(200, 500, 300)}
    frames = {u: pl.DataFrame({"unique_id": u, "ds": [start + timedelta(days=i)
                                                      for i in range(300)],
                               "y": y.astype(float)}) for u, y in ys.items()}
    both = lead_time_demand(pl.concat(list(frames.values())), 10)
    assert both["method"].to_list() == ["compound-poisson"] * 2
    for uid, f in frames.items():
        alone = lead_time_demand(f, 10)
        assert both.filter(pl.col("unique_id") == uid).equals(alone)
