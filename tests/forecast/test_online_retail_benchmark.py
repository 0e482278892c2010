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
    return bench.run_benchmark(demand, windows=1, horizon=7, models=bench.FAST, top=30)


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


def test_every_method_scored_finite_and_positive(results):
    assert results.n_series == 30 and results.ends == [date(2011, 9, 30)]
    assert {"sNaive", "sNaive (level quantiles)", "ETS", "ours",
            "ours (level quantiles)"} <= set(results.scores)
    for name, rows in results.scores.items():
        for key in ("wrmsse", "wspl", "wrmsse_total", "wrmsse_item", "wspl_total", "wspl_item"):
            assert math.isfinite(rows[0][key]) and rows[0][key] > 0, (name, key)
        assert results.seconds[name] > 0


def test_quantiles_monotone_never_negative_and_cover(results):
    for name in results.scores:
        assert results.bad[name] == [0, 0], name
        for frame in (*results.items[name], *results.totals[name]):
            q = frame.select(QUANTILE_COLUMNS).to_numpy()
            assert (q >= 0).all() and (q[:, 1:] >= q[:, :-1]).all(), name
            assert frame["ds"].min() > date(2011, 9, 23) and frame["ds"].max() == date(2011, 9, 30)
        items = pl.concat(results.items[name])
        assert items["unique_id"].n_unique() == 30 and items.height == 30 * 7
        # the 99% interval holds most of the scored days
        inside = items.select(((pl.col("y") >= pl.col("q0.005")) &
                               (pl.col("y") <= pl.col("q0.995"))).mean()).item()
        assert inside > 0.8, name


def test_report_prints_tables_and_command(results, capsys):
    bench.print_report(results, "python benchmarks/forecast_online_retail.py --top 30")
    out = capsys.readouterr().out
    assert "| sNaive | " in out and "| ours (level quantiles) | " in out
    assert out.count("| 0.995 | ") == 2 and "command: python" in out
