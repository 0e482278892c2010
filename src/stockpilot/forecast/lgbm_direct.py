"""Direct (non-recursive) global LightGBM: one model per horizon band.

The recursive model (:mod:`stockpilot.forecast.lgbm`) feeds each day's prediction into the
next day's lags, so its errors compound over 28 days. The direct strategy used by many M5
top solutions (e.g. the 1st place's non-recursive models, Makridakis et al. 2022 §4; In 2020)
instead gives each band of horizon steps its own model whose smallest lag is the band's last
step: band (a, b] uses lags b, b+7, b+14, b+21 and rolling means ending at lag b, so every
feature of steps a+1 … b is known at the forecast origin and no prediction is fed back.
Bands default to two fortnights (14, 28): two models, each step reading the future-known
covariates of its own day; ``bands=(7, 14, 21, 28)`` gives one per week at twice the cost.
Rolling-origin errors (for quantiles and the choice) come from refitting every band on each
window's history, as mlforecast's cross-validation does. One LightGBM thread by default: on
a machine shared with other jobs OpenMP threads busy-wait (a 3,000-row fit took 77 ms per tree
with two threads under load, see :mod:`stockpilot.forecast.scale`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Self, cast

import polars as pl

from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILES
from stockpilot.forecast.conformal import apply_offsets, offsets_from_cv
from stockpilot.forecast.lgbm import LGBMForecaster


def band_ends(bands: tuple[int, ...], horizon: int) -> list[int]:
    """The last step of each band, cut at ``horizon`` (the last band always ends there)."""
    if not bands or min(bands) < 1:
        raise StockpilotError(f"horizon bands {bands!r}: give positive band ends, e.g. 7,14")
    return sorted({b for b in bands if b < horizon} | {horizon})


class LGBMDirectForecaster(LGBMForecaster):
    """Global LightGBM, one model per horizon band (scikit-learn style estimator)."""

    def __init__(self, horizon: int = 28, n_windows: int = 2, n_estimators: int = 300,
                 learning_rate: float = 0.05, num_leaves: int = 63,
                 objective: str = "tweedie", random_state: int = 0, num_threads: int = 1,
                 bands: tuple[int, ...] = (14, 28), params: dict[str, Any] | None = None
                 ) -> None:
        super().__init__(horizon, n_windows, n_estimators, learning_rate, num_leaves,
                         objective, random_state, num_threads, params)
        self.bands = bands

    def _fit_bands(self, df: pl.DataFrame, h: int) -> list[tuple[int, Any]]:
        """``(band end, fitted MLForecast)`` for every band of an ``h``-step horizon."""
        return [(end, self._mlf(min_lag=end).fit(df=df, static_features=[]))
                for end in band_ends(self.bands, h)]

    @staticmethod
    def _predict_bands(models: list[tuple[int, Any]], future: pl.DataFrame | None, h: int
                       ) -> pl.DataFrame:
        """Point forecasts ``unique_id, ds, mean``: each step from its own band's model."""
        parts: list[pl.DataFrame] = []
        start = 0
        for end, mlf in models:
            if start >= h:
                break
            fc = mlf.predict(h=min(end, h), X_df=future)
            step = pl.col("ds").rank("dense").over("unique_id")
            parts.append(fc.filter(step > start).select(
                "unique_id", "ds", pl.col("LGBM").clip(lower_bound=0.0).alias("mean")))
            start = end
        return pl.concat(parts).sort("unique_id", "ds")

    def fit(self, df: pl.DataFrame, X: pl.DataFrame | None = None) -> Self:
        """Cross-validate every band on rolling origins, then fit the bands on all of ``df``.

        Args:
            df: history ``unique_id, ds, y``.
            X: optional future-known covariates, as for :class:`LGBMForecaster`.
        """
        df = self._with_exog(df, X)
        end = cast(date, df["ds"].max())
        cvs = []
        for w in range(self.n_windows, 0, -1):
            cutoff = end - timedelta(days=w * self.horizon)
            train = df.filter(pl.col("ds") <= cutoff)
            nxt = df.filter((pl.col("ds") > cutoff)
                            & (pl.col("ds") <= cutoff + timedelta(days=self.horizon)))
            future = nxt.select("unique_id", "ds", *self.exog_) if self.exog_ else None
            fc = self._predict_bands(self._fit_bands(train, self.horizon), future,
                                     self.horizon)
            cvs.append(fc.join(nxt.select("unique_id", "ds", "y"), on=["unique_id", "ds"])
                       .with_columns(pl.lit(cutoff).alias("cutoff")))
        self.cv_ = pl.concat(cvs).select(
            "unique_id", "cutoff", "ds",
            (pl.col("ds") - pl.col("cutoff")).dt.total_days().cast(pl.Int32).alias("h"),
            "y", "mean")
        self.offsets_ = offsets_from_cv(self.cv_, df)
        self.bands_ = self._fit_bands(df, self.horizon)
        return self

    def predict(self, h: int, X_future: pl.DataFrame | None = None,
                quantiles: tuple[float, ...] = QUANTILES) -> pl.DataFrame:
        """``unique_id, ds, mean, q…`` for ``h`` ≤ ``horizon`` days after the history's end."""
        if h > self.horizon:
            raise StockpilotError(f"direct LightGBM was fitted for {self.horizon} steps, "
                                  f"not {h}")
        future = None
        if self.exog_:
            future = X_future if X_future is not None else self.future_exog_
            if future is None:
                raise StockpilotError(
                    f"the model uses covariates ({', '.join(self.exog_)}): give them for "
                    f"each series' next {h} days")
            future = future.select("unique_id", "ds", *self.exog_)
        point = self._predict_bands(self.bands_, future, h)
        return apply_offsets(point, self.offsets_, quantiles)
