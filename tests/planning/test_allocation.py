"""Allocation LP on small instances: stock and capacity respected, demand met, cheaper routes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from stockpilot.planning.allocation import allocate, build_model


def random_instance(seed: int, n_sku: int = 12, n_store: int = 5):
    rng = np.random.default_rng(seed)
    target = rng.poisson(rng.uniform(0.5, 8, (n_sku, 1)), (n_sku, n_store)).astype(float)
    stock = np.floor(target.sum(axis=1) * rng.uniform(0.3, 1.3, n_sku))
    transfer = rng.uniform(0.1, 2.0, (1, n_store)) * rng.uniform(0.5, 2.0, (n_sku, 1))
    shortfall = rng.uniform(0.5, 6.0, (n_sku, 1))
    capacity = np.floor(target.sum(axis=0) * rng.uniform(0.4, 1.2, n_store))
    return stock, target, transfer, shortfall, capacity


def shortfall_formulation(stock, target, transfer, shortfall, capacity) -> float:
    """The same problem written the long way: x and u = unmet, x + u = T, dense matrices."""
    n_sku, n_store = target.shape
    k = n_sku * n_store
    c = np.concatenate([np.broadcast_to(transfer, target.shape).ravel(),
                        np.broadcast_to(shortfall, target.shape).ravel()])
    a_eq = np.hstack([np.eye(k), np.eye(k)])
    a_ub = np.zeros((n_sku + n_store, 2 * k))
    for s in range(n_sku):
        for j in range(n_store):
            a_ub[s, s * n_store + j] = a_ub[n_sku + j, s * n_store + j] = 1
    res = linprog(c, A_ub=a_ub, b_ub=np.concatenate([stock, capacity]), A_eq=a_eq,
                  b_eq=target.ravel(), bounds=(0, None), method="highs")
    assert res.status == 0
    return float(res.fun)


@pytest.mark.parametrize("seed", range(15))
def test_random_instances_feasible_optimal_and_backends_agree(seed):
    stock, target, transfer, shortfall, capacity = random_instance(seed)
    got = allocate(stock, target, transfer, shortfall, capacity)
    assert np.all(got.sent.sum(axis=1) <= stock + 1e-7)      # never more than the DC has
    assert np.all(got.sent.sum(axis=0) <= capacity + 1e-7)   # nor more than a store takes
    assert np.all(got.sent >= -1e-9) and np.all(got.sent <= target + 1e-9)
    # crossover returns a vertex; with integral data a transportation LP's vertices are integral
    np.testing.assert_allclose(got.sent, np.round(got.sent), atol=1e-6)
    assert got.cost == pytest.approx(shortfall_formulation(stock, target, transfer, shortfall,
                                                           capacity), rel=1e-7)
    other = allocate(stock, target, transfer, shortfall, capacity, backend="linprog")
    assert other.cost == pytest.approx(got.cost, rel=1e-9)


def test_meets_every_target_when_stock_suffices():
    stock, target, transfer, _, _ = random_instance(99)
    stock = target.sum(axis=1) + 5
    got = allocate(stock, target, transfer, np.full((len(stock), 1), transfer.max() + 0.5), None)
    np.testing.assert_allclose(got.sent, target, atol=1e-9)
    np.testing.assert_allclose(got.shortfall, 0, atol=1e-9)


def test_prefers_the_cheaper_route():
    got = allocate(np.array([10.0]), np.array([[10.0, 10.0, 10.0]]),
                   np.array([[3.0, 1.0, 2.0]]), np.array([[5.0]]))
    np.testing.assert_allclose(got.sent, [[0, 10, 0]], atol=1e-9)
    got = allocate(np.array([25.0]), np.array([[10.0, 10.0, 10.0]]),
                   np.array([[3.0, 1.0, 2.0]]), np.array([[5.0]]))
    np.testing.assert_allclose(got.sent, [[5, 10, 10]], atol=1e-9)


def test_route_dearer_than_the_shortfall_is_never_used():
    got = allocate(np.array([100.0]), np.array([[10.0, 10.0]]), np.array([[1.0, 6.0]]),
                   np.array([[5.0]]))
    np.testing.assert_allclose(got.sent, [[10, 0]], atol=1e-9)
    assert got.cost == pytest.approx(10 * 1.0 + 10 * 5.0)


def test_store_capacity_goes_to_the_most_valuable_skus():
    got = allocate(np.array([50.0, 50.0]), np.array([[30.0], [30.0]]), np.array([[1.0]]),
                   np.array([[2.0], [9.0]]), capacity=np.array([40.0]))
    np.testing.assert_allclose(got.sent, [[10], [30]], atol=1e-9)


def test_model_has_two_nonzeros_per_capacitated_column():
    stock, target, transfer, shortfall, capacity = random_instance(3)
    capacity[1] = np.inf
    m = build_model(stock, target, transfer, shortfall, capacity)
    per_col = np.diff(m.start)
    assert set(per_col.tolist()) <= {1, 2}
    assert np.all((per_col == 1) == (m.store == 1))
    assert m.csc.shape == (len(stock) + len(capacity) - 1, len(m.cost))


def test_no_helpful_route_gives_an_empty_allocation():
    from stockpilot.planning.allocation import allocate

    target = np.array([[3.0, 2.0]])
    got = allocate(np.array([5.0]), target, np.full_like(target, 9.0), np.ones_like(target))
    assert got.sent.sum() == 0 and np.array_equal(got.shortfall, target)
