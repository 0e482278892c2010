"""A global LightGBM model over all series (mlforecast), with conformal quantiles.

One gradient-boosted model learns from every series at once: lags 7/14/28, rolling means of
the last 7 and 28 days (of lag 1) and of the same weekday over 4 weeks (lag 7), day of week
and month, plus optional future-known covariates (events, SNAP, prices — see
:mod:`stockpilot.forecast.features`). Forecasting is recursive (mlforecast's default: one
model, each step's prediction feeds the next step's lags), so each step reads its own day's
covariates. mlforecast's direct strategy used to give every step only step 1's (mlforecast
issue 705; the mlforecast 1.1.0 we lock no longer does);
``tests/forecast/test_lgbm_covariates.py`` checks that step h uses step h's. A Tweedie objective
suits non-negative, zero-heavy retail demand. Quantiles come from the model's rolling-origin
errors, as for the statistical models (:mod:`stockpilot.forecast.conformal`).
"""

from __future__ import annotations

from typing import Any, Self

import polars as pl

from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILES
from stockpilot.forecast.conformal import apply_offsets, offsets_from_cv


class LGBMForecaster:
    """Global LightGBM through mlforecast (scikit-learn style estimator)."""

    def __init__(self, horizon: int = 28, n_windows: int = 2, n_estimators: int = 300,
                 learning_rate: float = 0.05, num_leaves: int = 63,
                 objective: str = "tweedie", random_state: int = 0, num_threads: int = 2,
                 params: dict[str, Any] | None = None) -> None:
        self.horizon = horizon
        self.n_windows = n_windows
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.objective = objective
        self.random_state = random_state
        self.num_threads = num_threads
        #: further LightGBM parameters (e.g. subsample, colsample_bytree, min_child_samples)
        self.params = dict(params or {})

    def _mlf(self, min_lag: int | None = None) -> Any:
        """The mlforecast pipeline; ``min_lag``: lags from it only (the direct models)."""
        import lightgbm as lgb
        from mlforecast import MLForecast
        from mlforecast.lag_transforms import RollingMean

        model = lgb.LGBMRegressor(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate,
            num_leaves=self.num_leaves, objective=self.objective,
            random_state=self.random_state, n_jobs=self.num_threads, verbosity=-1,
            **getattr(self, "params", {}))
        if min_lag is not None:
            lags = [min_lag, min_lag + 7, min_lag + 14, min_lag + 21]
            transforms = {min_lag: [RollingMean(window_size=7), RollingMean(window_size=28)]}
        else:
            lags = [7, 14, 28]
            transforms = {1: [RollingMean(window_size=7), RollingMean(window_size=28)],
                          7: [RollingMean(window_size=4)]}
        return MLForecast(models={"LGBM": model}, freq="1d", lags=lags,
                          lag_transforms=transforms,  # type: ignore[arg-type]
                          date_features=["weekday", "month"])  # polars names (frames are polars)

    def fit(self, df: pl.DataFrame, X: pl.DataFrame | None = None) -> Self:
        """Cross-validate (errors for quantiles and selection), then fit on all of ``df``.

        Args:
            df: history ``unique_id, ds, y``.
            X: optional covariates ``unique_id, ds, <columns>`` known in advance. It must cover
                the history's days; days after the history are kept for :meth:`predict`.
        """
        df = self._with_exog(df, X)
        static: list[str] = []  # every extra column is dynamic (changes by day)
        cv = self._mlf().cross_validation(df=df, n_windows=self.n_windows, h=self.horizon,
                                          step_size=self.horizon, static_features=static)
        self.cv_ = cv.select(
            "unique_id", "cutoff", "ds",
            (pl.col("ds") - pl.col("cutoff")).dt.total_days().cast(pl.Int32).alias("h"),
            "y", pl.col("LGBM").clip(lower_bound=0.0).alias("mean"))
        self.offsets_ = offsets_from_cv(self.cv_, df)
        self.mlf_ = self._mlf().fit(df=df, static_features=static)
        return self

    def _with_exog(self, df: pl.DataFrame, X: pl.DataFrame | None) -> pl.DataFrame:
        """``df`` sorted, with the covariates joined; keeps the days after it for predict."""
        df = df.select("unique_id", "ds", "y").sort("unique_id", "ds")
        self.exog_: list[str] = [] if X is None else [
            c for c in X.columns if c not in ("unique_id", "ds", "y")]
        self.future_exog_: pl.DataFrame | None = None
        if X is not None:
            X = X.select("unique_id", "ds", *self.exog_)
            df = df.join(X, on=["unique_id", "ds"], how="left")
            ends = df.group_by("unique_id").agg(pl.col("ds").max().alias("_end"))
            self.future_exog_ = X.join(ends, on="unique_id") \
                .filter(pl.col("ds") > pl.col("_end")).drop("_end")
        return df

    def predict(self, h: int, X_future: pl.DataFrame | None = None,
                quantiles: tuple[float, ...] = QUANTILES) -> pl.DataFrame:
        """``unique_id, ds, mean, q…`` for ``h`` days after the history's end (recursive).

        Covariates for the forecast days come from ``X_future`` or else from the days after
        the history that ``fit`` was given.
        """
        X_df = None
        if self.exog_:
            X_df = X_future if X_future is not None else self.future_exog_
            missing = (self.mlf_.get_missing_future(h, X_df.select("unique_id", "ds"))
                       if X_df is not None else None)
            if X_df is None or (missing is not None and missing.height):
                raise StockpilotError(
                    f"the model uses covariates ({', '.join(self.exog_)}): give them for "
                    f"each series' next {h} days")
            X_df = X_df.select("unique_id", "ds", *self.exog_)
        fc = self.mlf_.predict(h=h, X_df=X_df)
        point = fc.select("unique_id", "ds", pl.col("LGBM").clip(lower_bound=0.0).alias("mean"))
        return apply_offsets(point, self.offsets_, quantiles)
