"""Policies against stockpyl (Snyder & Shen's library): textbook examples, random inputs.

Each of our functions is vectorised; each check calls it once on a whole array of random
instances and compares element by element with stockpyl's scalar function.
"""

from __future__ import annotations

import numpy as np
import pytest
from stockpyl.eoq import economic_order_quantity
from stockpyl.newsvendor import newsvendor_normal
from stockpyl.rq import r_q_eoqss_approximation
from stockpyl.ss import s_s_power_approximation as sp_power

from stockpilot.planning.policies import (
    eoq,
    newsvendor_policy,
    r_s_policy,
    s_q_policy,
    s_s_policy,
    s_s_power_approximation,
)

N = 200
rng = np.random.default_rng(20240607)
MU = rng.uniform(5, 500, N)
SD = MU * rng.uniform(0.05, 0.6, N)
K = rng.uniform(1, 300, N)
H = rng.uniform(0.01, 2.0, N)
P = H * rng.uniform(1.5, 40, N)  # stockout cost above holding cost
LEAD = rng.integers(1, 30, N).astype(float)


def test_eoq_textbook_example_3_1():
    # Snyder & Shen Example 3.1: K = 8, h = 0.225, λ = 1300 → Q* = 304.05
    assert eoq(np.array([1300.0]), np.array([8.0]), np.array([0.225]))[0] == pytest.approx(
        304.0467800264368)


def test_eoq_random_matches_stockpyl():
    ours = eoq(MU, K, H)
    theirs = [economic_order_quantity(k, h, mu)[0] for mu, k, h in zip(MU, K, H, strict=True)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_newsvendor_textbook_example_4_3():
    # h = 0.18 (overage = c − v), p = 0.70 (underage = price − c), N(50, 8) → S* = 56.60
    lv = newsvendor_policy(np.array([50.0]), np.array([8.0]), price=0.88, cost=0.18, salvage=0.0)
    assert lv.order_qty[0] == pytest.approx(56.60395592743389)
    assert lv.safety_stock[0] == pytest.approx(6.60395592743389)


def test_newsvendor_random_matches_stockpyl():
    cost = rng.uniform(1, 10, N)
    salvage = cost * rng.uniform(0, 0.8, N)
    price = cost + rng.uniform(0.5, 20, N)
    ours = newsvendor_policy(MU, SD, price, cost, salvage).order_qty
    theirs = [newsvendor_normal(c - v, p - c, mu, sd)[0]
              for mu, sd, p, c, v in zip(MU, SD, price, cost, salvage, strict=True)]
    np.testing.assert_allclose(ours, np.maximum(theirs, 0.0), rtol=1e-9)


def test_r_q_textbook_example_5_5():
    # h = 0.225, p = 7.5, K = 8, λ = 1300 per year, τ = 150, L = 1/12 year
    tau = 7.5 / (7.5 + 0.225)
    lv = s_q_policy(np.array([1300.0]), np.array([150.0]), 1 / 12, tau, 8.0, 0.225)
    assert lv.reorder_point[0] == pytest.approx(190.3369965715624, rel=1e-9)
    assert lv.order_qty[0] == pytest.approx(304.0467800264368)
    assert lv.order_up_to[0] == pytest.approx(190.3369965715624 + 304.0467800264368)


def test_r_q_random_matches_stockpyl():
    tau = P / (P + H)  # stockpyl's r uses the newsvendor fractile of lead-time demand
    ours = s_q_policy(MU, SD, LEAD, tau, K, H)
    theirs = np.array([r_q_eoqss_approximation(h, p, k, mu, sd, lt)
                       for h, p, k, mu, sd, lt in zip(H, P, K, MU, SD, LEAD, strict=True)])
    np.testing.assert_allclose(ours.reorder_point, theirs[:, 0], rtol=1e-9)
    np.testing.assert_allclose(ours.order_qty, theirs[:, 1], rtol=1e-9)
    np.testing.assert_allclose(ours.safety_stock, theirs[:, 0] - MU * LEAD, rtol=1e-7, atol=1e-7)


def test_base_stock_random_matches_stockpyl():
    # Periodic review every period (R = 1) with lead time L: stockpyl's base-stock level is the
    # newsvendor quantile of demand over L + 1 periods.
    tau = P / (P + H)
    ours = r_s_policy(MU, SD, LEAD, 1.0, tau)
    theirs = [newsvendor_normal(h, p, mu, sd, lead_time=int(lt))[0]
              for h, p, mu, sd, lt in zip(H, P, MU, SD, LEAD, strict=True)]
    np.testing.assert_allclose(ours.order_up_to, theirs, rtol=1e-9)
    assert np.array_equal(ours.reorder_point, ours.order_up_to)
    np.testing.assert_allclose(ours.order_qty, MU)


def test_s_s_power_textbook_example_4_7():
    lv = s_s_power_approximation(np.array([50.0]), np.array([8.0]), 2.5, 0.18, 0.70)
    assert lv.reorder_point[0] == pytest.approx(40.19461695647407)
    assert lv.order_up_to[0] == pytest.approx(74.29017010980579)


def test_s_s_power_random_matches_stockpyl():
    ours = s_s_power_approximation(MU, SD, K, H, P)
    theirs = np.array([sp_power(h, p, k, mu, sd)
                       for h, p, k, mu, sd in zip(H, P, K, MU, SD, strict=True)])
    np.testing.assert_allclose(ours.reorder_point, theirs[:, 0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.order_up_to, theirs[:, 1], rtol=1e-9)


def test_s_s_policy_is_base_stock_plus_eoq():
    # s is the (R, S) level for the service level; S − s is the EOQ (stockpyl's EOQ).
    tau = np.full(N, 0.95)
    lv = s_s_policy(MU, SD, LEAD, 7.0, tau, K, H)
    base = [newsvendor_normal(0.05, 0.95, mu, sd, lead_time=int(lt) + 6)[0]
            for mu, sd, lt in zip(MU, SD, LEAD, strict=True)]
    np.testing.assert_allclose(lv.reorder_point, base, rtol=1e-9)
    q = [economic_order_quantity(k, h, mu)[0] for mu, k, h in zip(MU, K, H, strict=True)]
    np.testing.assert_allclose(lv.order_up_to - lv.reorder_point, q, rtol=1e-9)
