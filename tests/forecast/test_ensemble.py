"""The Ensemble candidate (mean of the LightGBM family) and the -store/-dept candidates."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.classify import demand_classes
from stockpilot.forecast.data import Prepared
from stockpilot.forecast.ensemble import MeanEnsemble
from stockpilot.forecast.grouped import GroupedForecaster
from stockpilot.forecast.lgbm import LGBMForecaster
from stockpilot.forecast.lgbm_direct import LGBMDirectForecaster
from stockpilot.forecast.selection import (
    assemble,
    check_models,
    forecast_frame,
    make_forecaster,
    routes,
)

H = 7
MODELS = ("SeasonalNaive", "LightGBM", "LightGBMDirect-store", "LightGBM-dept", "Ensemble")


def small(name: str, horizon: int, n_windows: int, freq: str = "1d",
          season_length: int = 7) -> Any:
    """The default factory with small, one-thread LightGBMs (module level: it pickles)."""
    kw = {"n_estimators": 20, "num_leaves": 15, "num_threads": 1}
    if name == "LightGBM":
        return LGBMForecaster(horizon, n_windows, **kw)
    if name == "LightGBMDirect":
        return LGBMDirectForecaster(horizon, n_windows, bands=(horizon,), **kw)
    return make_forecaster(name, horizon, n_windows, freq, season_length)


@pytest.fixture(scope="module")
def covariates(mixed_covariates):
    """The shared M5 covariates of ``mixed_recent`` (conftest), H = 7 days ahead."""
    return mixed_covariates


@pytest.fixture(scope="module")
def dept(mixed_recent):
    ids = mixed_recent["unique_id"].unique().sort()
    return pl.DataFrame({"unique_id": ids}).with_columns(
        pl.col("unique_id").str.extract(r"^([A-Z]+)_").alias("group"))


@pytest.fixture(scope="module")
def result(mixed_recent, covariates, dept):
    prep = Prepared(mixed_recent, mixed_recent["ds"].max())
    return forecast_frame(prep, MODELS, H, 2, covariates=covariates, factory=small,
                          groups={"dept": dept})


def test_every_candidate_is_fitted_and_scored(result):
    assert list(result.fitted) == list(MODELS)  # Ensemble last: after its members
    assert isinstance(result.fitted["LightGBMDirect-store"], GroupedForecaster)
    assert sorted(result.fitted["LightGBM-dept"].models_) == ["FOODS", "HOBBIES"]
    assert sorted(result.fitted["LightGBMDirect-store"].models_) == ["CA_3", "TX_3"]
    assert {f"mse_{m}" for m in MODELS} <= set(result.choice.columns)


def test_ensemble_is_the_mean_of_its_members(result):
    members = ("LightGBM", "LightGBMDirect-store", "LightGBM-dept")
    ens = result.fitted["Ensemble"]
    assert list(ens.members) == list(members)
    keys = ["unique_id", "cutoff", "ds"]
    cv = [result.fitted[m].cv_.select(*keys, pl.col("mean").alias(m)) for m in members]
    both = cv[0].join(cv[1], on=keys).join(cv[2], on=keys).sort(keys)
    assert ens.cv_.height == both.height == 20 * 2 * H
    np.testing.assert_allclose(ens.cv_["mean"].to_numpy(),
                               both.select(pl.mean_horizontal(members)).to_series().to_numpy())
    fc = [result.fitted[m].predict(H).select("unique_id", "ds", pl.col("mean").alias(m))
          for m in members]
    point = fc[0].join(fc[1], on=["unique_id", "ds"]).join(fc[2], on=["unique_id", "ds"])
    got = ens.predict(H).join(point.sort("unique_id", "ds"), on=["unique_id", "ds"])
    np.testing.assert_allclose(got["mean"].to_numpy(),
                               got.select(pl.mean_horizontal(members)).to_series().to_numpy())
    q = got.select(QUANTILE_COLUMNS).to_numpy()
    assert (np.diff(q, axis=1) >= -1e-9).all() and (q >= 0).all()


def test_where_chosen_the_forecast_is_the_ensembles(result, mixed_recent):
    """Chosen per series (here no class picks it), the served rows are the ensemble's own."""
    classes = demand_classes(mixed_recent)
    prep = Prepared(mixed_recent, mixed_recent["ds"].max())
    got = assemble(result.fitted, routes(classes, MODELS), classes, prep, H, "1d", "series")
    chosen = got.choice.filter(pl.col("model") == "Ensemble").select("unique_id")
    assert chosen.height > 0
    served = got.forecasts.filter(pl.col("model") == "Ensemble").drop("sku", "location",
                                                                       "model")
    own = result.fitted["Ensemble"].predict(H).join(chosen, on="unique_id", how="semi")
    assert_frame_equal(served.sort("unique_id", "ds"), own.sort("unique_id", "ds"))


def test_the_fitted_candidates_pickle(result):
    again = pickle.loads(pickle.dumps(result.fitted))
    for name in ("LightGBM-dept", "Ensemble"):
        assert_frame_equal(again[name].predict(H), result.fitted[name].predict(H))


def test_ensemble_needs_two_lightgbm_family_members():
    check_models(["LightGBM", "LightGBM-store", "Ensemble"])
    for models in (["SeasonalNaive", "Ensemble"], ["LightGBM", "TSB", "Ensemble"]):
        with pytest.raises(StockpilotError, match=r"add some of (LightGBM, )?LightGBMDirect"):
            check_models(models)
    with pytest.raises(StockpilotError, match="two members"):
        MeanEnsemble({}).fit(pl.DataFrame())


def test_dept_models_need_the_departments(mixed_recent):
    prep = Prepared(mixed_recent, mixed_recent["ds"].max())
    with pytest.raises(StockpilotError, match="LightGBM-dept needs each series' dept"):
        forecast_frame(prep, ["LightGBM-dept"], H, 1, factory=small)
    with pytest.raises(StockpilotError, match="built by forecast_frame"):
        make_forecaster("LightGBM-store", H, 1)

