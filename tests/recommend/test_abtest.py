"""A/B statistics against hand computations and scipy/statsmodels-free textbook values."""

from __future__ import annotations

import math

import pytest

from stockpilot.recommend.abtest import (
    Counts,
    InvalidExperiment,
    Variant,
    assign,
    check_variants,
    mean_ci,
    power,
    report,
    wilson,
    winner,
)


def test_assignment_is_sticky_and_follows_the_weights():
    arms = [Variant("a", weight=3.0), Variant("b", weight=1.0)]
    first = [assign("exp1", f"c{i}", arms).name for i in range(4000)]
    again = [assign("exp1", f"c{i}", arms).name for i in range(4000)]
    assert first == again
    assert first.count("a") / 4000 == pytest.approx(0.75, abs=0.03)
    other = [assign("exp2", f"c{i}", arms).name for i in range(4000)]
    assert other != first  # another experiment reshuffles customers


def test_wilson_interval_matches_the_textbook_formula():
    # Newcombe (1998), Table I, example 81/263: 0.2553 to 0.3662
    lo, hi = wilson(81, 263)
    assert lo == pytest.approx(0.2553, abs=1e-4) and hi == pytest.approx(0.3662, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def test_mean_interval_and_power():
    values = [0.0, 0.0, 10.0, 0.0, 5.0]
    m, lo, hi = mean_ci(sum(values), sum(v * v for v in values), len(values))
    sd = math.sqrt(sum((v - 3.0) ** 2 for v in values) / 4)
    assert m == 3.0 and hi - m == pytest.approx(1.959964 * sd / math.sqrt(5))
    assert lo == pytest.approx(2 * m - hi)
    # Two proportions 0.10 vs 0.15 with 686 per arm have ≈ 80% power at α = 0.05
    # (the classic sample-size answer for this pair, Chow, Shao & Wang 2008 §4.2).
    assert power(0.15, 686, 0.10, 686) == pytest.approx(0.80, abs=0.01)
    assert power(0.1, 0, 0.2, 10) == 0.0


def test_report_names_the_winner_only_when_the_intervals_separate():
    counts = {"control": Counts(2000, 200, 100, 500.0, 5000.0),
              "better": Counts(2000, 300, 200, 1000.0, 10000.0)}
    rows = report(counts, "control")
    assert rows[0]["power"] is None and rows[1]["power"] > 0.99
    assert winner(rows) == "better"
    close = report({"control": Counts(100, 10, 5, 0, 0), "b": Counts(100, 11, 6, 0, 0)},
                   "control")
    assert winner(close) is None


def test_variants_are_checked():
    with pytest.raises(InvalidExperiment, match="two"):
        check_variants([Variant("a")])
    with pytest.raises(InvalidExperiment, match="unique"):
        check_variants([Variant("a"), Variant("a")])
    with pytest.raises(InvalidExperiment, match="weight"):
        check_variants([Variant("a"), Variant("b", weight=0)])
