"""Planning: quantile interpolation, EOQ/newsvendor against stockpyl, reasons that add up."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.planning.classes import abc_xyz
from stockpilot.planning.policies import eoq, newsvendor_fractile, quantile_at, round_to_supplier


def ltd_frame(rows: dict[str, list[float]]) -> pl.DataFrame:
    return pl.DataFrame({"unique_id": list(rows), "days": [14] * len(rows),
                         "mean": [float(np.mean(v)) for v in rows.values()],
                         **{qcol(t): [v[i] for v in rows.values()]
                            for i, t in enumerate(QUANTILES)}})


def test_quantile_at_interpolates_and_clamps():
    ltd = ltd_frame({"a": [0, 1, 2, 3, 4, 5, 6, 7, 8]})
    assert quantile_at(ltd, 0.5)[0] == 4
    assert quantile_at(ltd, (0.835 + 0.975) / 2)[0] == pytest.approx(6.5)
    assert quantile_at(ltd, 0.9999)[0] == 8


def test_eoq_matches_stockpyl():
    from stockpyl.eoq import economic_order_quantity

    for d, k, h in [(1300, 8, 0.225 * 75), (500, 20, 2.0), (12000, 150, 3.5)]:
        q_star, _ = economic_order_quantity(k, h, d)
        assert eoq(np.array([d]), np.array([k]), np.array([h]))[0] == pytest.approx(q_star)


def test_newsvendor_fractile_matches_stockpyl_normal():
    from scipy.stats import norm
    from stockpyl.newsvendor import newsvendor_normal

    p, c, v = 18.0, 3.0, 0.0  # holding (overage) = c − v, stockout (underage) = p − c
    q_star, _ = newsvendor_normal(c - v, p - c, 50, 8)
    tau = newsvendor_fractile(np.array([p]), np.array([c]), np.array([v]))[0]
    assert 50 + 8 * norm.ppf(tau) == pytest.approx(q_star)


def test_supplier_rounding():
    got = round_to_supplier(np.array([0.0, 1.0, 13.0, 30.0]), np.array([24.0] * 4),
                            np.array([12.0] * 4))
    assert got.tolist() == [0.0, 24.0, 24.0, 36.0]


def test_abc_xyz_classes_and_levels():
    from datetime import date, timedelta

    rows = []
    for uid, base, noise in (("big", 100, 0), ("mid", 10, 5), ("small", 1, 3)):
        rng = np.random.default_rng(1)
        for i in range(70):
            rows.append((uid, date(2024, 1, 1) + timedelta(days=i),
                         float(max(0, base + rng.integers(-noise, noise + 1)))))
    daily = pl.DataFrame(rows, schema=["unique_id", "ds", "y"], orient="row")
    price = pl.DataFrame({"unique_id": ["big", "mid", "small"], "price": [1.0, 1.0, 1.0]})
    got = {r["unique_id"]: r for r in abc_xyz(daily, price).iter_rows(named=True)}
    assert got["big"]["abc"] == "A" and got["small"]["abc"] == "C"
    assert got["big"]["xyz"] == "X" and got["big"]["service_level"] == 0.98
