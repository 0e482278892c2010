"""``stockpilot benchmark m5`` on a real slice: M5 layouts, scoring when truth is present."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from stockpilot.errors import StockpilotError
from stockpilot.forecast.m5_benchmark import run


@pytest.fixture(scope="module")
def m5_dir(shared_data, tmp_path_factory) -> Path:
    src = shared_data / "m5"
    out = tmp_path_factory.mktemp("m5b")
    (out / "daily").mkdir()
    (out / "calendar.csv.gz").write_bytes((src / "calendar.csv.gz").read_bytes())
    wide = pl.read_csv(src / "daily" / "sales_CA_3_HOBBIES_2.csv.gz").head(10)
    wide.write_csv(out / "daily" / "small.csv")
    (pl.scan_csv(src / "sell_prices.csv.gz")
     .filter(pl.col("item_id").is_in(wide["item_id"].to_list()), pl.col("store_id") == "CA_3")
     .collect().write_csv(out / "sell_prices.csv"))
    return out


def test_files_in_m5_layouts_and_scores(m5_dir, tmp_path):
    scores = run(m5_dir, "d_1885", 28, tmp_path, ("SeasonalNaive", "TSB"), n_windows=2)
    fc = pl.read_csv(tmp_path / "forecast.csv")
    q = pl.read_csv(tmp_path / "quantiles.csv")
    assert fc.columns == ["id", *[f"F{i}" for i in range(1, 29)]] and fc.height == 10
    assert fc["id"][0].endswith("_evaluation")
    assert q.height == 90 and q["id"].str.ends_with("_0.995").sum() == 10
    assert scores is not None and 0 < scores["wrmsse"] < 5 and 0 < scores["wspl"] < 5
    assert set(scores) >= {"wrmsse_total", "wrmsse_store_dept", "wrmsse_item_store"}


def test_unscored_without_truth_and_bad_day(m5_dir, tmp_path):
    assert run(m5_dir, "d_1913", 7, tmp_path, ("SeasonalNaive",), n_windows=1) is None
    with pytest.raises(StockpilotError, match="M5 day"):
        run(m5_dir, "1913", 7, tmp_path, ("SeasonalNaive",))
