"""The simulator's "ours" is the planning pipeline: same orders, perishables, money KPIs."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from stockpilot.planning.pipeline import PlanOptions, build_plan
from stockpilot.simulate.engine import Policy, Setup, State, simulate
from stockpilot.simulate.kpis import Costs, kpis
from stockpilot.simulate.replay import Forecasts, Replay, Terms

FIRST = date(2023, 1, 1)


def _world(n: int = 8, days: int = 300, seed: int = 5) -> tuple[pl.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    ids = [f"S{i}@X" for i in range(n)]
    rate = np.linspace(0.2, 6.0, n)
    y = rng.poisson(rate[:, None], (n, days)) * np.where(rng.random((n, days)) < 0.2, 3, 1)
    df = pl.DataFrame({"unique_id": np.repeat(ids, days),
                       "ds": [FIRST + timedelta(days=d) for d in range(days)] * n,
                       "y": y.reshape(-1).astype(float)})
    return df, ids


def _replay(df: pl.DataFrame, ids: list[str], start: date, shelf: int = 0) -> Replay:
    n = len(ids)
    terms = Terms(lead_time_days=np.array([3, 7] * (n // 2)), moq=np.full(n, 4),
                  pack_size=np.array([1, 2, 4, 6] * (n // 4)), unit_cost=np.full(n, 2.0),
                  shelf_life_days=np.full(n, shelf) if shelf else None)
    fc = Forecasts(df, refit_days=28, models=("SeasonalNaive", "WindowAverage28"), horizon=42)
    return Replay(df, ids, start, terms, np.full(n, 0.95), fc)


def _demand(df: pl.DataFrame, ids: list[str], start: date) -> np.ndarray:
    part = df.filter(pl.col("ds") >= start).sort("unique_id", "ds")
    return part["y"].to_numpy().astype(np.int64).reshape(len(ids), -1)


def test_plan_at_d_equals_the_simulators_decision_on_review_day_d():
    df, ids = _world()
    start = FIRST + timedelta(days=244)
    rp = _replay(df, ids, start)
    demand = _demand(df, ids, start)
    trace = rp.run(demand, np.full(len(ids), 5, dtype=np.int64))
    for d in (14, 35):  # one review in each refit period
        before = trace.on_order[:, d] - trace.ordered[:, d]
        state = State(d, trace.on_hand_end[:, d], before, None, None)
        plan = build_plan(rp.inputs(state), PlanOptions(as_of=start + timedelta(days=d)))
        got = pl.DataFrame({"unique_id": ids}).join(plan, on="unique_id", how="left")
        np.testing.assert_array_equal(got["order_qty"].to_numpy(), trace.ordered[:, d])
        assert (got["inventory_position"].to_numpy()
                == trace.on_hand_end[:, d] + before).all()
    assert trace.ordered.sum() > 0
    pack = np.array([1, 2, 4, 6] * 2)
    assert (trace.ordered % pack[:, None] == 0).all()
    assert ((trace.ordered == 0) | (trace.ordered >= 4)).all()


def test_perishables_are_written_off_and_the_books_balance():
    demand = np.array([[2] * 30, [0] * 30])
    setup = Setup(lead_time=2, review=7, shelf_life=np.array([5, 0]))
    trace = simulate(demand, Policy(order_up_to=np.full((2, 30), 20.0)), np.array([20, 20]),
                     setup)
    assert trace.wasted is not None
    assert trace.wasted[0].sum() > 0 and trace.wasted[1].sum() == 0
    prev = np.concatenate([[[20], [20]], trace.on_hand_end[:, :-1]], axis=1)
    np.testing.assert_array_equal(
        trace.on_hand_end, prev + trace.received - trace.sales - trace.wasted)
    # the first lot (20 on day 0) sells 2 a day for 5 days, then 10 are written off
    assert trace.wasted[0, 5] == 10
    costs = Costs(unit_cost=np.array([1.0, 1.0]), price=np.array([3.0, 3.0]), order_cost=2.0)
    k = kpis(trace, costs)
    assert k["waste_cost"] == trace.wasted.sum() * 1.0
    assert k["lost_margin"] == trace.lost.sum() * 2.0
    assert k["total_cost"] == k["holding_cost"] + k["ordering_cost"] + k["lost_margin"] \
        + k["waste_cost"]


def test_pipeline_replay_with_shelf_life_caps_orders_and_wastes_little():
    df, ids = _world()
    start = FIRST + timedelta(days=244)
    rp = _replay(df, ids, start, shelf=10)
    trace = rp.run(_demand(df, ids, start), np.full(len(ids), 5, dtype=np.int64))
    assert trace.wasted is not None
    assert trace.wasted.sum() <= 0.1 * trace.sales.sum()


def test_replay_passes_every_option_to_the_pipeline():
    df, ids = _world(n=4, days=150)
    start = FIRST + timedelta(days=120)
    base = _replay(df, ids, start)
    low = Replay(base.history, ids, start, base.terms, base.service_level, base.forecasts,
                 PlanOptions(level_map={"*": ((0.0, 1.0), (0.05, 0.06))}))
    state = State(0, np.zeros(4, dtype=np.int64), np.zeros(4, dtype=np.int64), None, None)
    assert low.decide(state).sum() < base.decide(state).sum()
