"""Optional hyperparameter search for the global LightGBM (optuna), within a budget.

The objective is the model's own rolling-origin error — the volume-weighted mean of each
series' backtest MSE over its history's mean square (a scale-free MSE, like the RMSSE the
choice uses) — on the windows :class:`LGBMForecaster` cross-validates. The budget is a number
of trials and/or seconds (``optuna``'s ``n_trials`` / ``timeout``); the TPE sampler is seeded,
so a run is repeatable. Tune on early data and report on later windows (docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from stockpilot.errors import StockpilotError
from stockpilot.forecast.lgbm import LGBMForecaster


@dataclass(frozen=True)
class Tuned:
    """The best parameters found, their score, and how many trials ran."""

    params: dict[str, Any]
    score: float
    trials: int

    def kwargs(self) -> dict[str, Any]:
        """The parameters as :class:`LGBMForecaster` keyword arguments."""
        return kwargs_of(self.params)


#: searched parameters that are LGBMForecaster arguments; the rest go to LightGBM as ``params``
OWN = ("n_estimators", "learning_rate", "num_leaves")


def kwargs_of(params: dict[str, Any]) -> dict[str, Any]:
    """Flat searched parameters → :class:`LGBMForecaster` keyword arguments."""
    own = {k: v for k, v in params.items() if k in OWN}
    extra = {k: v for k, v in params.items() if k not in OWN}
    if "subsample" in extra:
        extra["subsample_freq"] = 1  # LightGBM bags rows only with a bagging frequency
    return own | ({"params": extra} if extra else {})


def backtest_score(cv: pl.DataFrame, history: pl.DataFrame) -> float:
    """Scale-free backtest error: Σ MSE_i / mean(y_i²), weighted by each series' units."""
    scale = history.group_by("unique_id").agg((pl.col("y") ** 2).mean().alias("s"),
                                              pl.col("y").sum().alias("w"))
    per = cv.group_by("unique_id").agg(((pl.col("y") - pl.col("mean")) ** 2).mean()
                                       .alias("mse")).join(scale, on="unique_id")
    per = per.filter(pl.col("s") > 0)
    if per.is_empty():
        raise StockpilotError("no series with sales to tune on")
    return float(per.select((pl.col("w") * pl.col("mse") / pl.col("s")).sum()
                            / pl.col("w").sum()).item())


def tune_lgbm(df: pl.DataFrame, X: pl.DataFrame | None = None, *, horizon: int = 28,
              n_windows: int = 2, n_trials: int | None = 20, timeout_s: float | None = None,
              num_threads: int = 1, random_state: int = 0) -> Tuned:
    """Search LightGBM's parameters by backtest error.

    Searched: trees, learning rate, leaves, row and feature bagging, the least leaf size.

    Args:
        df: history ``unique_id, ds, y``.
        X: optional future-known covariates (as for :class:`LGBMForecaster`).
        horizon: the backtest windows' length.
        n_windows: backtest windows per trial.
        n_trials: the trial budget (None: until ``timeout_s``).
        timeout_s: the time budget in seconds (None: until ``n_trials``).
        num_threads: LightGBM threads.
        random_state: seeds the sampler and the models.
    """
    if n_trials is None and timeout_s is None:
        raise StockpilotError("give a budget: a number of trials or seconds")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: Any) -> float:
        params = {
            "n_estimators": trial.suggest_int("n_estimators", 50, 1000, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 15, 255, log=True),
            "subsample": trial.suggest_float("subsample", 0.4, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
            "min_child_samples": trial.suggest_int("min_child_samples", 5, 400, log=True)}
        f = LGBMForecaster(horizon=horizon, n_windows=n_windows, num_threads=num_threads,
                           random_state=random_state, **kwargs_of(params))
        return backtest_score(f.fit(df, X).cv_, df)

    study = optuna.create_study(direction="minimize",
                                sampler=optuna.samplers.TPESampler(seed=random_state))
    study.optimize(objective, n_trials=n_trials, timeout=timeout_s)
    return Tuned(dict(study.best_params), float(study.best_value), len(study.trials))
