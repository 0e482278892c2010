"""The research variants in benchmarks/policy_research.py compose src's compare steps.

With no research option they give ``compare``'s rows exactly; each option adds or changes only
what it names (issue 12 moved these options out of ``src``).
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from stockpilot.simulate.engine import Setup
from stockpilot.simulate.run import compare

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from policy_research import compare_research  # benchmarks/ is not a package

D0 = date(2024, 1, 1)
START, END = D0 + timedelta(days=100), D0 + timedelta(days=127)
KW = {"service_levels": (0.9,), "ks": (1.5,), "models": ("SeasonalNaive", "WindowAverage28")}


@pytest.fixture(scope="module")
def demand() -> pl.DataFrame:
    rng = np.random.default_rng(3)
    rows = [(f"s{i}@W", D0 + timedelta(days=t), float(v))
            for i in range(4) for t, v in enumerate(rng.poisson(0.4 + i, 128))]
    return pl.DataFrame(rows, schema=["unique_id", "ds", "y"], orient="row")


@pytest.fixture(scope="module")
def plain(demand: pl.DataFrame) -> list[dict[str, object]]:
    return compare(demand, START, END, Setup(7, 7), **KW).rows  # type: ignore[arg-type]


def test_without_options_the_research_path_is_compare(demand, plain) -> None:  # type: ignore[no-untyped-def]
    assert compare_research(demand, START, END, Setup(7, 7), **KW).rows == plain  # type: ignore[arg-type]


def test_rounding_changes_only_the_quantile_policies(demand, plain) -> None:  # type: ignore[no-untyped-def]
    rows = compare_research(demand, START, END, Setup(7, 7), integer="round",  # type: ignore[arg-type]
                            empirical_window=28, groups={"s0@W": "lumpy"}, **KW).rows
    by = {r["policy"]: r for r in rows}
    assert {"empirical", "ours + empirical (intermittent)"} <= set(by)
    before = {r["policy"]: r for r in plain}
    for same in ("ours", "erp_min_max", "oracle"):  # not rounded by `integer`
        assert by[same] == before[same]
    assert [r["policy"] for r in rows if r["policy"] in before] == [r["policy"] for r in plain]
