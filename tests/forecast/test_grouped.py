"""One global model per group of series (per store / department), on real M5 series."""

from __future__ import annotations

import pickle
from functools import partial

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from stockpilot.errors import StockpilotError
from stockpilot.forecast.grouped import (
    OTHER,
    GroupedForecaster,
    category_groups,
    store_groups,
)
from stockpilot.forecast.lgbm import LGBMForecaster

H = 7
#: small, one-thread, seeded base models: equal fits give equal forecasts
BASE = partial(LGBMForecaster, horizon=H, n_windows=1, n_estimators=20, num_leaves=15,
               num_threads=1, random_state=0)


@pytest.fixture(scope="module")
def covariates(mixed_covariates):
    """The shared M5 covariates of ``mixed_recent`` (conftest), H = 7 days ahead."""
    return mixed_covariates


@pytest.fixture(scope="module")
def groups(mixed_recent):
    """Department of each series (``FOODS_3`` / ``HOBBIES_2``); two HOBBIES series left out."""
    ids = mixed_recent["unique_id"].unique().sort()
    dept = pl.DataFrame({"unique_id": ids}).with_columns(
        pl.col("unique_id").str.extract(r"^([A-Z]+_\d)").alias("group"))
    return dept.filter(~pl.col("unique_id").is_in(ids.filter(
        ids.str.starts_with("HOBBIES")).tail(2).implode()))


@pytest.fixture(scope="module")
def fitted(mixed_recent, covariates, groups):
    return GroupedForecaster(BASE, groups).fit(mixed_recent, covariates)


def _members(df: pl.DataFrame, groups: pl.DataFrame) -> dict[str, pl.DataFrame]:
    ids = df.select("unique_id").unique().join(groups, on="unique_id", how="left") \
        .with_columns(pl.col("group").fill_null(OTHER))
    return {g: ids.filter(pl.col("group") == g).select("unique_id")
            for g in ids["group"].unique().to_list()}


def test_each_group_equals_its_model_fitted_alone(fitted, mixed_recent, covariates, groups):
    members = _members(mixed_recent, groups)
    assert sorted(members) == sorted(fitted.models_) == sorted(["FOODS_3", "HOBBIES_2", OTHER])
    assert members[OTHER].height == 2
    got = fitted.predict(H)
    for ids in members.values():
        alone = BASE().fit(mixed_recent.join(ids, on="unique_id", how="semi"),
                           covariates.join(ids, on="unique_id", how="semi"))
        assert_frame_equal(got.join(ids, on="unique_id", how="semi"),
                           alone.predict(H).sort("unique_id", "ds"))
        assert_frame_equal(fitted.cv_.join(ids, on="unique_id", how="semi")
                           .sort("unique_id", "ds"), alone.cv_.sort("unique_id", "ds"))


def test_covariates_are_split_per_group(fitted, covariates, mixed_recent):
    for name, model in fitted.models_.items():
        own = set(fitted.ids_[name]["unique_id"])
        assert model.exog_ and set(model.future_exog_["unique_id"]) == own
    future = covariates.filter(pl.col("ds") > mixed_recent["ds"].max())
    assert_frame_equal(fitted.predict(H, X_future=future), fitted.predict(H))


def test_backtest_and_forecast_cover_every_series(fitted, mixed_recent):
    n = mixed_recent["unique_id"].n_unique()
    assert fitted.cv_["unique_id"].n_unique() == n and fitted.cv_.height == n * H
    fc = fitted.predict(H)
    assert fc.height == n * H and fc.columns[:3] == ["unique_id", "ds", "mean"]


def test_pickles(fitted):
    again = pickle.loads(pickle.dumps(fitted))
    assert_frame_equal(again.predict(H), fitted.predict(H))


def test_store_and_category_groups():
    ids = ["A@S1", "B@S1", "A@S2", "C@S2"]
    assert store_groups(ids)["group"].to_list() == ["S1", "S1", "S2", "S2"]
    cats = pl.DataFrame({"sku": ["A", "B", "B"], "category": ["x", "y", "z"]})
    assert category_groups(ids, cats)["group"].to_list() == ["x", "y", "x", None]
    assert category_groups(ids, None)["group"].null_count() == 4


def test_refuses_groups_without_their_columns():
    with pytest.raises(StockpilotError, match="unique_id and group"):
        GroupedForecaster(BASE, pl.DataFrame({"unique_id": ["A@S1"], "store": ["S1"]}))
