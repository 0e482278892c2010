"""The exported trace is enough to recompute every KPI of the table (GLOSSARY formulas)."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from stockpilot.simulate.engine import Setup
from stockpilot.simulate.run import trace_frame

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from policy_research import compare_research  # benchmarks/ is not a package


def _recompute(trace: pl.DataFrame) -> dict[str, float]:
    """KPIs from the trace columns alone, written independently of simulate.kpis."""
    t = trace.sort("sku", "location", "day").with_columns(
        (pl.col("review").cast(pl.Int64).cum_sum().over("sku", "location") - 1).alias("cycle"))
    cycles = t.filter(pl.col("cycle") >= 0).group_by("sku", "location", "cycle").agg(
        (pl.col("lost") > 0).any().alias("short"))
    per_sku = cycles.group_by("sku", "location").agg((1 - pl.col("short").mean()).alias("csl"))
    on_hand = pl.col("on_hand_end").clip(lower_bound=0)
    daily = t.group_by("day").agg(on_hand.sum())
    return {
        "fill_rate": t["sales"].sum() / t["demand"].sum(),
        "cycle_service_level": float(per_sku["csl"].mean()),  # type: ignore[arg-type]
        "lost_units": float(t["lost"].sum()),
        "avg_on_hand_units": float(daily["on_hand_end"].mean()),  # type: ignore[arg-type]
        "avg_on_hand_per_sku": float(t.select(on_hand.mean()).item()),
        "orders_placed": float((t["ordered"] > 0).sum()),
        "units_ordered": float(t["ordered"].sum()),
    }


@pytest.fixture(scope="module")
def comparison():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    d0 = date(2024, 1, 1)
    rows = [(f"s{i}@W", d0 + timedelta(days=t), float(v))
            for i in range(10) for t, v in enumerate(rng.poisson(0.5 + i % 4, 260))]
    df = pl.DataFrame(rows, schema=["unique_id", "ds", "y"], orient="row")
    # the research variant (benchmarks/policy_research.py): src's compare plus the empirical
    # policies, so the trace is checked for those too and the benchmark path keeps working
    return compare_research(df, d0 + timedelta(days=190), d0 + timedelta(days=259),
                            Setup(7, 7), service_levels=(0.8, 0.95), ks=(1.5, 3.0),
                            calibration_weeks=8, empirical_window=56,
                            groups={f"s{i}@W": "lumpy" for i in range(0, 10, 2)})


def test_every_kpi_recomputes_from_the_trace(comparison):  # type: ignore[no-untyped-def]
    trace = trace_frame(comparison)
    kept = trace.select("policy", "knob").unique()
    assert set(kept["policy"]) == {"ours", "normal", "ours (calibrated)",
                                   "normal (calibrated)", "erp_min_max", "oracle", "empirical",
                                   "ours + empirical (intermittent)"}
    for policy, knob in kept.iter_rows():
        row = next(r for r in comparison.rows if r["policy"] == policy and r["knob"] == knob)
        got = _recompute(trace.filter(pl.col("policy") == policy))
        for name, value in got.items():
            assert value == pytest.approx(row[name], rel=1e-12), (policy, name)


def test_trace_balance_identity(comparison):  # type: ignore[no-untyped-def]
    t = trace_frame(comparison).sort("policy", "sku", "day").with_columns(
        pl.col("on_hand_end").shift(1).over("policy", "sku").alias("prev"))
    t = t.filter(pl.col("prev").is_not_null())
    assert (t["on_hand_end"] == t["prev"] + t["received"] - t["sales"]).all()
    assert (t["lost"] == t["demand"] - t["sales"]).all()


def test_calibration_moves_csl_towards_the_target(comparison):  # type: ignore[no-untyped-def]
    rows = {(r["policy"], r["knob"]): r["cycle_service_level"] for r in comparison.rows}
    for tau in (0.8, 0.95):
        before, after = rows[("ours", tau)], rows[("ours (calibrated)", tau)]
        assert abs(after - tau) <= abs(before - tau) + 0.05
    lmap = comparison.maps["ours"]
    assert (np.diff(lmap.achieved, axis=1) >= 0).all()
