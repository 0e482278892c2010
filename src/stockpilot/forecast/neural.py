"""Neural global models through Nixtla's neuralforecast (the ``deep`` extra), not hand-written.

``NeuralForecaster(name)`` wraps one neuralforecast model — ``NF-LSTM``, ``GRU``, ``NHITS``
(Challu et al. 2023) or ``TFT`` (Lim et al. 2021) — trained on every series at once with the
multi-quantile pinball loss (``MQLoss`` at the nine M5 levels, the M5 uncertainty loss), so its
quantiles are the network's own, not conformal offsets. The point forecast is the median.
Rolling-origin errors (``cv_``, for the choice among candidates) come from neuralforecast's
``cross_validation``. ``NF-LSTM`` sits beside the hand-written ``LSTM`` of
:mod:`stockpilot.forecast.deep` so that the two can be compared on the same windows.

Training is short by default (``max_steps=200``, input of 56 days, one CPU thread; on a shared
machine more threads spin, see :mod:`stockpilot.forecast.deep`); raise ``max_steps`` for
accuracy. Quantiles are clipped at zero and made monotone.
"""

from __future__ import annotations

import logging
from typing import Any, Self

import polars as pl

from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.forecast.conformal import monotone

MODELS = ("NF-LSTM", "GRU", "NHITS", "TFT")


def _column(alias: str, tau: float) -> str:
    """The output column of neuralforecast for quantile ``tau`` (``-lo-``/``-hi-`` by level)."""
    if tau == 0.5:
        return f"{alias}-median"
    level = round(abs(2 * tau - 1) * 100, 1)
    return f"{alias}-{'lo' if tau < 0.5 else 'hi'}-{level}"


class NeuralForecaster:
    """One neuralforecast model with MQLoss quantiles (scikit-learn style estimator)."""

    def __init__(self, name: str = "NHITS", horizon: int = 28, n_windows: int = 1,
                 input_size: int = 56, max_steps: int = 200, random_state: int = 0,
                 num_threads: int = 1) -> None:
        self.name = name
        self.horizon = horizon
        self.n_windows = n_windows
        self.input_size = input_size
        self.max_steps = max_steps
        self.random_state = random_state
        self.num_threads = num_threads

    def _nf(self) -> Any:
        try:
            import torch
            from neuralforecast import NeuralForecast
            from neuralforecast import models as m
            from neuralforecast.losses.pytorch import MQLoss
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise StockpilotError("neural models need the deep extra: "
                                  "pip install 'stockpilot[deep]'") from exc
        if self.name not in MODELS:
            raise StockpilotError(f"unknown neural model {self.name!r}; one of "
                                  f"{', '.join(MODELS)}")
        torch.set_num_threads(self.num_threads)
        logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
        logging.getLogger("lightning_fabric").setLevel(logging.ERROR)
        cls = {"NF-LSTM": m.LSTM, "GRU": m.GRU, "NHITS": m.NHITS, "TFT": m.TFT}[self.name]
        model = cls(h=self.horizon, input_size=self.input_size,
                    loss=MQLoss(quantiles=list(QUANTILES)), max_steps=self.max_steps,
                    random_seed=self.random_state, scaler_type="robust",
                    enable_progress_bar=False, enable_model_summary=False, logger=False,
                    accelerator="cpu", alias="NF")
        return NeuralForecast(models=[model], freq="D")

    def _frame(self, out: Any) -> pl.DataFrame:
        fc = pl.from_pandas(out.reset_index(drop=False) if "unique_id" not in out.columns
                            else out)
        # torch works in float32: cast to Float64 like every other model's frame, or a run
        # that chooses this model for some series and another for the rest cannot stack them
        cols = {qcol(t): pl.col(_column("NF", t)).cast(pl.Float64).clip(lower_bound=0.0)
                for t in QUANTILES}
        keep = [c for c in ("unique_id", "ds", "cutoff", "y") if c in fc.columns]
        fc = fc.with_columns(pl.col("ds").cast(pl.Date)).select(
            *keep, pl.col(_column("NF", 0.5)).cast(pl.Float64).clip(lower_bound=0.0)
            .alias("mean"), **cols)
        return monotone(fc, [qcol(t) for t in QUANTILES])

    def fit(self, df: pl.DataFrame, X: pl.DataFrame | None = None) -> Self:
        """Cross-validate on ``n_windows`` rolling origins, then fit on all of ``df``."""
        del X  # future covariates are not passed to the neural models yet
        data = df.select("unique_id", "ds", "y").sort("unique_id", "ds").to_pandas()
        cv = self._frame(self._nf().cross_validation(df=data, n_windows=self.n_windows,
                                                     step_size=self.horizon))
        self.cv_ = cv.with_columns(pl.col("cutoff").cast(pl.Date)).select(
            "unique_id", "cutoff", "ds",
            (pl.col("ds") - pl.col("cutoff")).dt.total_days().cast(pl.Int32).alias("h"),
            "y", "mean")
        self.nf_ = self._nf()
        self.nf_.fit(df=data)
        return self

    def predict(self, h: int, X_future: pl.DataFrame | None = None,
                quantiles: tuple[float, ...] = QUANTILES) -> pl.DataFrame:
        """``unique_id, ds, mean, q…`` for ``h`` ≤ ``horizon`` days (the network's quantiles)."""
        del X_future
        if h > self.horizon or quantiles != QUANTILES:
            raise StockpilotError(f"{self.name} was trained for {self.horizon} steps and the "
                                  "nine M5 quantiles")
        fc = self._frame(self.nf_.predict())
        first = fc.with_columns(pl.col("ds").rank("dense").over("unique_id").alias("_s"))
        return first.filter(pl.col("_s") <= h).drop("_s").sort("unique_id", "ds")
