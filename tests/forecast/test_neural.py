"""neuralforecast models behind the Forecaster contract (needs the deep extra)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from stockpilot.forecast.base import QUANTILE_COLUMNS

pytest.importorskip("neuralforecast")

from stockpilot.errors import StockpilotError
from stockpilot.forecast.neural import NeuralForecaster
from stockpilot.forecast.selection import GLOBAL_MODELS, make_forecaster


@pytest.mark.slow
@pytest.mark.parametrize("name", ["NF-LSTM", "GRU", "NHITS", "TFT"])
def test_neural_model_forecasts_monotone_quantiles(name, foods_recent):
    f = NeuralForecaster(name, horizon=7, input_size=14, max_steps=3).fit(foods_recent)
    fc = f.predict(7)
    assert fc.height == foods_recent["unique_id"].n_unique() * 7
    q = fc.select(QUANTILE_COLUMNS).to_numpy()
    assert (q >= 0).all() and (np.diff(q, axis=1) >= -1e-9).all()
    assert set(f.cv_.columns) == {"unique_id", "cutoff", "ds", "h", "y", "mean"}
    assert f.cv_["h"].min() == 1 and f.cv_["h"].max() == 7


def test_unknown_name_and_longer_horizon_are_refused(foods_recent):
    with pytest.raises(StockpilotError):
        NeuralForecaster("Mamba", horizon=7).fit(foods_recent)
    f = NeuralForecaster("NHITS", horizon=7, input_size=14, max_steps=2).fit(foods_recent)
    with pytest.raises(StockpilotError):
        f.predict(8)
    # Float64 like every other model (torch's float32 could not be stacked with the others'
    # forecasts when the choice mixes models: found by the rolling M5 benchmark)
    fc = f.predict(7)
    assert {fc.schema[c] for c in ("mean", *QUANTILE_COLUMNS)} == {pl.Float64}
    assert f.cv_.schema["mean"] == pl.Float64


def test_reachable_as_a_candidate_by_name():
    for name in ("NF-LSTM", "GRU", "NHITS", "TFT"):
        f = make_forecaster(name, 14, 3)
        assert isinstance(f, NeuralForecaster) and f.name == name and f.horizon == 14
        assert name in GLOBAL_MODELS
