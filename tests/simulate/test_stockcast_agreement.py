"""Paths that must agree, agree: our engine and the peer stockcast on the same (R, S) policy.

stockcast receives, decides, then meets demand; we receive, meet demand, then decide. Its
decision before demand on day t with lead time L is ours after demand on day t − 1 with lead
time L + 1, so ours replays one zero-demand day first (benchmarks/simulate_speed.py does the
same at scale). With whole-unit S the two must agree to the unit, day by day.
"""

from __future__ import annotations

import numpy as np
import pytest

from stockpilot.simulate.engine import Policy, Setup, simulate

pd = pytest.importorskip("pandas")
stockcast = pytest.importorskip("stockcast")


def _stockcast(demand: np.ndarray, s: np.ndarray, on_hand0: np.ndarray, lead: int,
               review: int) -> object:
    from stockcast.core import InventoryStateDataFrame, SimulationEngine
    from stockcast.policies import OrderUpToPolicy
    from stockcast.policies.rolling import rolling_schedule

    n, days = demand.shape
    ids = [f"s{i}" for i in range(n)]
    opening = pd.Timestamp("2024-01-01")
    dates = pd.date_range(opening + pd.Timedelta(days=1), periods=days, freq="D")
    frame = pd.DataFrame({"unique_id": np.repeat(ids, days), "date": np.tile(dates, n),
                          "y": demand.reshape(-1).astype(float)})
    reviews = np.arange(0, days, review)
    targets = pd.DataFrame({"unique_id": np.tile(ids, len(reviews)),
                            "cutoff": np.repeat(opening + pd.to_timedelta(reviews, unit="D"), n),
                            "S": s[:, reviews].T.reshape(-1)})
    shelf = InventoryStateDataFrame.from_observed(pd.DataFrame(
        {"unique_id": ids, "date": [opening] * n, "on_hand": on_hand0.astype(float)}))
    schedule = rolling_schedule(OrderUpToPolicy(lead_time=lead, review_period=review, freq="D",
                                                service_level=None, allow_backorders=False),
                                targets, shelf, target_column="S")
    result = SimulationEngine().run(policy=schedule[min(schedule)], policy_schedule=schedule,
                                    demand_source=frame, inventory=shelf,
                                    allow_target_reuse=False)
    return result.to_event_frame().sort_values(["unique_id", "period"])


@pytest.mark.parametrize(("lead", "review"), [(7, 7), (3, 5)])
def test_same_policy_same_kpis_as_stockcast(lead: int, review: int) -> None:
    rng = np.random.default_rng(3)
    n, days = 6, 56
    demand = np.concatenate([rng.poisson(4, (3, days)), rng.poisson(0.3, (3, days))])
    s = rng.integers(0, 40, (n, days)).astype(float)
    on_hand0 = rng.integers(0, 20, n)
    ev = _stockcast(demand, s, on_hand0, lead, review)
    ours = simulate(np.concatenate([np.zeros((n, 1), np.int64), demand], axis=1),
                    Policy(np.concatenate([s, s[:, -1:]], axis=1)), on_hand0,
                    Setup(lead_time=lead + 1, review=review))
    shape = (n, days)
    assert (ev["fulfilled_units"].to_numpy().reshape(shape) == ours.sales[:, 1:]).all()
    assert (ev["lost_sales_units"].to_numpy().reshape(shape) == ours.lost[:, 1:]).all()
    assert (ev["ending_on_hand"].to_numpy().reshape(shape) == ours.on_hand_end[:, 1:]).all()
    assert (ev["order_quantity"].to_numpy().reshape(shape) == ours.ordered[:, :-1]).all()
