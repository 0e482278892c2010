"""Optuna search for LightGBM keeps to its budget and returns the best trial."""

from __future__ import annotations

import pytest

from stockpilot.errors import StockpilotError
from stockpilot.forecast.lgbm import LGBMForecaster
from stockpilot.forecast.tuning import backtest_score, tune_lgbm


def test_tuning_runs_the_trial_budget_and_scores_scale_free(foods_recent):
    got = tune_lgbm(foods_recent, horizon=7, n_windows=1, n_trials=2)
    assert got.trials == 2 and got.score > 0
    assert set(got.params) == {"n_estimators", "learning_rate", "num_leaves", "subsample",
                               "colsample_bytree", "min_child_samples"}
    kw = got.kwargs()
    assert kw["params"]["subsample_freq"] == 1 and "n_estimators" not in kw["params"]
    assert LGBMForecaster(**kw).params["min_child_samples"] == got.params["min_child_samples"]
    # a perfect backtest scores 0
    cv = foods_recent.tail(50).with_columns(mean="y", cutoff="ds")
    assert backtest_score(cv, foods_recent) == 0.0


def test_a_budget_is_required(foods_recent):
    with pytest.raises(StockpilotError, match="budget"):
        tune_lgbm(foods_recent, n_trials=None, timeout_s=None)
