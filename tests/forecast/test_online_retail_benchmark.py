"""``benchmarks/forecast_online_retail.py`` on the vendored sample: real data, small and fast."""

from __future__ import annotations

import importlib
import math
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from stockpilot.forecast.base import QUANTILE_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "online_retail_top300.csv.gz"
sys.path.insert(0, str(ROOT / "benchmarks"))
bench = importlib.import_module("forecast_online_retail")


@pytest.fixture(scope="module")
def demand():
    return bench.load_demand(SAMPLE)


@pytest.fixture(scope="module")
def results(demand):
    return bench.run_benchmark(demand, windows=2, horizon=7, models=bench.FAST, top=30)


def test_demand_is_net_daily_units_of_products(demand):
    raw = pl.read_csv(SAMPLE, infer_schema_length=0)
    code = demand.daily["unique_id"].str.split("@").list.first()
    assert code.str.contains(r"\d").all() and not code.is_in(["C2"]).any()
    assert demand.daily.select(pl.struct("unique_id", "ds").is_unique().all()).item()
    # 23166 on 2011-01-18: 74,215 units ordered and cancelled the same day net out
    lines = raw.filter((pl.col("StockCode") == "23166") &
                       pl.col("InvoiceDate").str.starts_with("2011-01-18"))
    day = demand.daily.filter((pl.col("unique_id") == "23166@ONLINE") &
                              (pl.col("ds") == date(2011, 1, 18)))["y"].item()
    assert day == lines["Quantity"].cast(pl.Int64).sum() and day < 1000
    # no invoices on Saturdays: zero-demand days, filled later by prepare
    assert (demand.daily["ds"].dt.weekday() != 6).all()
    assert demand.prices["price"].min() > 0


def test_every_baseline_and_rule_scored_finite_and_positive(results):
    assert results.n_series == 30 and results.ends == [date(2011, 9, 23), date(2011, 9, 30)]
    assert {"sNaive", "sNaive (level quantiles)", "AutoETS"} <= set(results.rows)
    for rule in ("LightGBM", "class choice", "series choice"):
        assert {f"{rule}, k={k}" for k in (30, 50, 100)} <= set(results.rows)
    for name, rows in results.rows.items():
        assert [r["cutoff"] for r in rows] == results.cutoffs, name
        for key in ("wrmsse", "wspl", "wrmsse_total", "wrmsse_item", "wspl_total", "wspl_item"):
            assert all(math.isfinite(r[key]) and r[key] > 0 for r in rows), (name, key)
    assert all(results.seconds[m] > 0 for m in (*bench.FAST, "AutoETS"))


def test_quantiles_monotone_never_negative_and_cover(results):
    for name, frames in results.tests.items():
        assert results.bad[name] == [0, 0], name
        last = frames[-1]
        q = last.select(QUANTILE_COLUMNS).to_numpy()
        assert (q >= 0).all() and (q[:, 1:] >= q[:, :-1]).all(), name
        assert last["ds"].min() > date(2011, 9, 23) and last["ds"].max() == date(2011, 9, 30)
        assert last["unique_id"].n_unique() == 30 and last.height == 30 * 7
        # the 99% interval holds most of the scored days
        items = pl.concat(frames)
        inside = items.select(((pl.col("y") >= pl.col("q0.005")) &
                               (pl.col("y") <= pl.col("q0.995"))).mean()).item()
        assert inside > 0.8, name


def test_report_chooses_on_early_windows_and_prints_tables(results, capsys):
    chosen = bench.print_report(results, 1, "python benchmarks/forecast_online_retail.py --top 30")
    out = capsys.readouterr().out
    assert chosen in results.rows and f"| {chosen} (chosen) | " in out
    assert "## tuning on the 1 early windows" in out and "## late windows (1)" in out
    assert "| sNaive (level quantiles) | " in out and "| AutoETS | " in out
    assert "item-level P(y ≤ q) at 0.75 / 0.835 / 0.975 / 0.995" in out
    assert "peak RSS" in out and "command: python" in out
