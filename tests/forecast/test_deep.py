"""Global LSTM and Transformer-encoder forecasters on real M5 series (needs the deep extra)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.deep import DeepForecaster

torch = pytest.importorskip("torch")
H = 14


@pytest.mark.parametrize("arch", ["LSTM", "Transformer"])
def test_trains_predicts_sane_quantiles_and_beats_zero(arch, mixed_recent):
    end = mixed_recent["ds"].max()
    cutoff = end - timedelta(days=H)
    train = mixed_recent.filter(pl.col("ds") <= cutoff)
    actual = mixed_recent.filter(pl.col("ds") > cutoff)
    f = DeepForecaster(arch, horizon=H, input_size=28, epochs=12, n_windows=1).fit(train)
    fc = f.predict(H)
    assert fc.height == 20 * H and fc["ds"].min() == cutoff + timedelta(days=1)
    q = fc.select(QUANTILE_COLUMNS).to_numpy()
    assert np.isfinite(q).all() and (q >= 0).all()
    assert (np.diff(q, axis=1) >= -1e-6).all()
    assert (fc["q0.975"] > fc["q0.025"]).mean() > 0.9  # a real spread, not a point
    scored = actual.join(fc, on=["unique_id", "ds"])
    mae = (scored["y"] - scored["mean"]).abs().mean()
    mae_zero = scored["y"].abs().mean()
    assert mae < 0.6 * mae_zero, (mae, mae_zero)  # measured ≈ 0.32–0.37
    # rolling-origin errors for model choice: one window of H days per series
    assert set(f.cv_["h"].unique()) == set(range(1, H + 1))
    assert f.cv_["unique_id"].n_unique() == 20


def test_same_seed_same_forecast_and_unknown_arch(mixed_recent):
    kw = {"horizon": 7, "input_size": 14, "epochs": 2, "n_windows": 0}
    a = DeepForecaster("LSTM", **kw).fit(mixed_recent).predict(7)
    b = DeepForecaster("LSTM", **kw).fit(mixed_recent).predict(7)
    assert a.equals(b)
    with pytest.raises(StockpilotError, match="trained for 7"):
        DeepForecaster("LSTM", **kw).fit(mixed_recent).predict(8)
    with pytest.raises(StockpilotError, match="unknown deep model"):
        DeepForecaster("GRU", **kw).fit(mixed_recent)


def test_deep_model_is_a_candidate_in_selection(mixed_recent):
    from stockpilot.forecast.data import Prepared
    from stockpilot.forecast.selection import forecast_frame

    prep = Prepared(mixed_recent, mixed_recent["ds"].max())
    result = forecast_frame(prep, ("SeasonalNaive", "LSTM"), 7, 1)
    assert result.choice["mse_LSTM"].is_not_null().all()  # global: scored on every series
    assert set(result.forecasts["model"]) <= {"SeasonalNaive", "LSTM"}
    assert result.forecasts.height == 20 * 7
