"""The simulator's day, its balance identity, KPIs by hand, and the policies' ordering."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from stockpilot.simulate import strategies as st
from stockpilot.simulate.engine import Policy, Setup, simulate
from stockpilot.simulate.kpis import Costs, cycle_service_level, kpis
from stockpilot.simulate.run import compare, inventory_at_fill, trace_frame


def test_order_arrives_after_lead_time_and_balance_holds():
    demand = np.array([[3, 3, 3, 3, 3, 3, 3, 3]])
    policy = Policy(order_up_to=np.full((1, 8), 20.0))
    tr = simulate(demand, policy, np.array([5]), Setup(lead_time=2, review=4))
    # day 4: 9 on hand, nothing on order → order 20 − 9 = 11, arriving on day 6
    assert tr.ordered[0].tolist() == [18, 0, 0, 0, 11, 0, 0, 0]
    assert tr.received[0].tolist() == [0, 0, 18, 0, 0, 0, 11, 0]
    assert tr.sales[0].tolist() == [3, 2, 3, 3, 3, 3, 3, 3]
    assert tr.lost[0].tolist() == [0, 1, 0, 0, 0, 0, 0, 0]
    prev = np.concatenate([[5], tr.on_hand_end[0][:-1]])
    assert (tr.on_hand_end[0] == prev + tr.received[0] - tr.sales[0]).all()


def test_backorders_carry_negative_stock():
    tr = simulate(np.array([[4, 4]]), Policy(np.zeros((1, 2))), np.array([2]),
                  Setup(lead_time=1, review=1, backorders=True))
    # day 0 ends at −2 and orders 2 (up to S = 0), which arrive on day 1
    assert tr.on_hand_end[0].tolist() == [-2, -4] and tr.lost.sum() == 0
    assert tr.ordered[0].tolist() == [2, 4]


def test_pack_and_moq_rounding():
    tr = simulate(np.array([[0, 0]]), Policy(np.full((1, 2), 5.0)), np.array([0]),
                  Setup(lead_time=1, review=2, moq=np.array([10]), pack=np.array([4])))
    assert tr.ordered[0, 0] == 10


def test_kpis_by_hand():
    demand = np.array([[2, 2, 2, 2]])
    tr = simulate(demand, Policy(np.zeros((1, 4))), np.array([5]), Setup(lead_time=1, review=2))
    k = kpis(tr, Costs(unit_cost=np.array([1.0]), price=np.array([3.0])))
    assert k["fill_rate"] == 5 / 8 and k["lost_units"] == 3 and k["lost_revenue"] == 9
    assert cycle_service_level(tr)[0] == 0.5  # first cycle fine, second short


def test_oracle_loses_nothing_after_warm_up():
    rng = np.random.default_rng(0)
    hist = rng.poisson(3, size=(50, 120))
    setup = Setup(lead_time=5, review=7)
    start, days = 30, 90
    pol = st.oracle(hist, start, days, setup)
    on_hand0 = hist[:, start:start + setup.lead_time + 1].sum(axis=1) + 1
    tr = simulate(hist[:, start:], pol, on_hand0, setup)
    assert tr.lost[:, : days - setup.lead_time - setup.review].sum() == 0


def test_compare_runs_every_policy_and_trace_recomputes_kpis():
    rng = np.random.default_rng(5)
    d0 = date(2024, 1, 1)
    rows = [(f"s{i}@W", d0 + timedelta(days=t), float(v))
            for i in range(12) for t, v in enumerate(rng.poisson(2 + i % 3, 200))]
    df = pl.DataFrame(rows, schema=["unique_id", "ds", "y"], orient="row")
    cmp = compare(df, d0 + timedelta(days=130), d0 + timedelta(days=199), Setup(7, 7),
                  service_levels=(0.8, 0.95), ks=(1.5, 3.0))
    policies = {r["policy"] for r in cmp.rows}
    assert policies == {"ours", "normal", "erp_min_max", "oracle"}
    trace = trace_frame(cmp)
    ours = trace.filter(pl.col("policy") == "ours")
    row = next(r for r in cmp.rows if r["policy"] == "ours" and r["knob"] == 0.95)
    assert ours["sales"].sum() / ours["demand"].sum() == row["fill_rate"]
    hi = [r["fill_rate"] for r in cmp.rows if r["policy"] == "ours"]
    assert hi[1] >= hi[0]
    assert inventory_at_fill(cmp.rows, "ours", 2.0) is None


def test_empirical_levels_are_quantiles_of_past_sums():
    hist = np.array([[1, 0, 0, 5, 0, 0, 2, 0, 9, 9]])
    # review r=0 at start=8: past days 0..7, P=2 → sums 1,0,5,5,0,2,2 → sorted 0,0,1,2,2,5,5
    got = st.empirical_levels(hist, 8, [0], 2, 8, np.array([0.5]))
    assert got[0].tolist() == [2.0]
    assert st.empirical_levels(hist, 8, [0], 2, 8, np.array([1.0]))[0].tolist() == [5.0]
