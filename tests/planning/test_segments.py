"""k-means segments: recover clearly separated synthetic groups; features mean what they say."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score

from stockpilot.planning.segments import demand_features, segment_skus

DAYS = 182


def frame(series: dict[str, np.ndarray]) -> pl.DataFrame:
    ds = [date(2024, 1, 1) + timedelta(days=i) for i in range(DAYS)]
    return pl.DataFrame({"unique_id": np.repeat(list(series), DAYS),
                         "ds": ds * len(series),
                         "y": np.concatenate(list(series.values())).astype(float)})


def three_groups(seed: int = 3) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    rng = np.random.default_rng(seed)
    t = np.arange(DAYS)
    series, prices, truth = {}, {}, {}
    for i in range(15):
        # fast, smooth, cheap, flat
        series[f"fast{i}"] = rng.poisson(rng.uniform(40, 60), DAYS)
        prices[f"fast{i}"], truth[f"fast{i}"] = rng.uniform(2, 4), 0
        # intermittent, lumpy, expensive
        occurs = rng.random(DAYS) < rng.uniform(0.08, 0.15)
        series[f"slow{i}"] = occurs * (1 + rng.geometric(0.3, DAYS))
        prices[f"slow{i}"], truth[f"slow{i}"] = rng.uniform(150, 300), 1
        # strongly weekly, growing, mid-priced
        level = 20 * (1 + t / DAYS) * (1 + 0.9 * np.sin(2 * np.pi * t / 7))
        series[f"week{i}"] = rng.poisson(level)
        prices[f"week{i}"], truth[f"week{i}"] = rng.uniform(20, 30), 2
    price = pl.DataFrame({"unique_id": list(prices), "price": list(prices.values())})
    return frame(series), price, truth


def test_recovers_k_and_grouping():
    daily, price, truth = three_groups()
    seg = segment_skus(daily, price, random_state=0)
    assert seg.k == 3
    assert set(seg.silhouette) == set(range(2, 9))
    got = dict(zip(seg.features["unique_id"], seg.labels, strict=True))
    ids = sorted(truth)
    assert adjusted_rand_score([truth[u] for u in ids], [got[u] for u in ids]) == 1.0
    assert seg.features["segment"].to_list() == seg.labels.tolist()


def test_given_k_is_used():
    daily, price, _ = three_groups(seed=4)
    seg = segment_skus(daily, price, k=5)
    assert seg.k == 5 and seg.silhouette == {} and len(set(seg.labels.tolist())) == 5


def test_features_measure_what_they_say():
    t = np.arange(DAYS)
    daily = frame({
        "flat": np.full(DAYS, 10),
        "weekly": 10 + 5 * (t % 7 == 5),  # a spike every Saturday-ish, no noise
        "growing": 10 + t / DAYS * 10,   # doubles over the window (mean 15, +10)
        "sparse": np.where(t % 4 == 0, 6, 0),
    })
    price = pl.DataFrame({"unique_id": ["flat", "weekly"], "price": [2.5, 3.0]})
    f = {r["unique_id"]: r for r in demand_features(daily, price).iter_rows(named=True)}
    assert f["flat"]["mean_daily_units"] == 10 and f["flat"]["cv2"] == 0
    assert f["flat"]["adi"] == 1 and f["flat"]["trend"] == pytest.approx(0, abs=1e-12)
    assert f["weekly"]["seasonality"] > 0.99
    assert f["growing"]["seasonality"] < 0.01
    assert f["growing"]["trend"] == pytest.approx(10 / 15, rel=0.02)
    assert f["sparse"]["adi"] == pytest.approx(182 / 46)  # 46 demand days in 182
    assert f["flat"]["price"] == 2.5 and f["sparse"]["price"] == 1.0


def test_too_few_skus_needs_k():
    daily = frame({"a": np.ones(DAYS), "b": np.zeros(DAYS)})
    with pytest.raises(ValueError, match="pass k"):
        segment_skus(daily, pl.DataFrame({"unique_id": ["a"], "price": [1.0]}))
