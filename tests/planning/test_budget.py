"""Budget selection: exact optimum against brute force on small random instances."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from stockpilot.planning.budget import select_within_budget


def instance(rng: np.random.Generator) -> tuple[pl.DataFrame, dict[str, float]]:
    rows = []
    for k in range(int(rng.integers(3, 7))):
        supplier = str(rng.choice(["S1", "S2"]))
        cost = float(rng.uniform(1, 20))
        for qty in sorted(rng.choice(np.arange(1, 40), size=int(rng.integers(1, 4)),
                                     replace=False)):
            rows.append((f"k{k}", supplier, int(qty), cost,
                         float(rng.uniform(-5, 3) * qty ** rng.uniform(0.5, 1.0))))
    lines = pl.DataFrame(rows, schema=["unique_id", "supplier", "qty", "unit_cost", "value"],
                         orient="row")
    budgets = {"S1": float(rng.uniform(20, 300)), "S2": float(rng.uniform(20, 300))}
    return lines, budgets


def brute_force(lines: pl.DataFrame, budgets: dict[str, float]) -> float:
    options: dict[str, list[int]] = {}
    for i, uid in enumerate(lines["unique_id"]):
        options.setdefault(uid, []).append(i)
    cost = (lines["qty"] * lines["unit_cost"]).to_numpy()
    value, sup = lines["value"].to_numpy(), lines["supplier"].to_list()
    best = 0.0
    for pick in itertools.product(*[[None, *o] for o in options.values()]):
        chosen = [i for i in pick if i is not None]
        spend = {s: sum(cost[i] for i in chosen if sup[i] == s) for s in budgets}
        if all(spend[s] <= budgets[s] + 1e-9 for s in budgets):
            best = max(best, float(sum(value[i] for i in chosen)))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_exact_optimum_against_brute_force(seed):
    lines, budgets = instance(np.random.default_rng(seed))
    got = select_within_budget(lines, budgets)
    chosen = got.filter(pl.col("in_budget"))
    assert chosen["value"].sum() == pytest.approx(brute_force(lines, budgets), abs=1e-6)
    assert chosen["unique_id"].is_unique().all()  # at most one option per SKU
    for s, b in budgets.items():
        assert chosen.filter(pl.col("supplier") == s)["line_cost"].sum() <= b + 1e-6
    assert got["rank"].to_list() == list(range(1, lines.height + 1))
    assert got["in_budget"].to_list() == sorted(got["in_budget"].to_list(), reverse=True)


def test_ranking_and_cumulative_spend():
    lines = pl.DataFrame({"unique_id": ["a", "b", "c", "d"], "supplier": ["S"] * 4,
                          "qty": [10, 10, 10, 10], "unit_cost": [1.0, 2.0, 3.0, 1.0],
                          "value": [5.0, 30.0, 12.0, -1.0]})
    got = select_within_budget(lines, {"S": 50.0})
    # budget 50 fits b (20) + c (30) = value 42, better than b + a (35)
    assert got.filter(pl.col("in_budget"))["unique_id"].to_list() == ["b", "c"]
    assert got["unique_id"].to_list() == ["b", "c", "a", "d"]
    assert got["cumulative_cost"].to_list() == [20.0, 50.0, 50.0, 50.0]


def test_unbudgeted_key_is_unlimited_and_empty_input():
    lines = pl.DataFrame({"unique_id": ["a", "b"], "period": ["2024-W10", "2024-W11"],
                          "qty": [100, 100], "unit_cost": [10.0, 10.0], "value": [1.0, 1.0]})
    got = select_within_budget(lines, {"2024-W10": 500.0}, key="period")
    assert dict(zip(got["unique_id"], got["in_budget"], strict=True)) == {"a": False, "b": True}
    assert select_within_budget(lines.head(0), {}).is_empty()
