"""Statistical models from statsforecast behind the Forecaster surface, with calibrated quantiles.

``StatsForecaster(model)`` wraps one statsforecast model (not re-implemented): ``fit`` runs
statsforecast's rolling-origin cross-validation to collect out-of-sample errors (used both to
calibrate quantiles, see :mod:`stockpilot.forecast.conformal`, and to choose models per series)
and fits the model on the whole history; ``predict`` returns the mean and the nine quantiles.
"""

from __future__ import annotations

from typing import Any, Self

import polars as pl

from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILES
from stockpilot.forecast.conformal import apply_offsets, offsets_from_cv

#: Model names this wrapper knows; values build the statsforecast model.
MODELS: dict[str, Any] = {}


def _register() -> None:
    from statsforecast import models as m

    MODELS.update({
        "SeasonalNaive": lambda s: m.SeasonalNaive(season_length=s),
        "Naive": lambda s: m.Naive(),
        "HistoricAverage": lambda s: m.HistoricAverage(),
        "WindowAverage28": lambda s: m.WindowAverage(window_size=28),
        "SeasonalWindowAverage": lambda s: m.SeasonalWindowAverage(season_length=s,
                                                                   window_size=4),
        "AutoETS": lambda s: m.AutoETS(season_length=s),
        "AutoTheta": lambda s: m.AutoTheta(season_length=s),
        # approximation=True is R forecast::auto.arima's default for series longer than 150
        # (Hyndman & Khandakar 2008): 3-4x faster on M5 daily series
        "AutoARIMA": lambda s: m.AutoARIMA(season_length=s, approximation=True),
        "MSTL": lambda s: m.MSTL(season_length=s, trend_forecaster=m.AutoETS(model="ZZN")),
        "CrostonOptimized": lambda s: m.CrostonOptimized(),
        "TSB": lambda s: m.TSB(alpha_d=0.1, alpha_p=0.1),
        "ADIDA": lambda s: m.ADIDA(),
        "IMAPA": lambda s: m.IMAPA(),
    })


def build_model(name: str, season_length: int = 7) -> Any:
    """The statsforecast model called ``name``."""
    if not MODELS:
        _register()
    if name not in MODELS:
        raise StockpilotError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    model = MODELS[name](season_length)
    model.alias = name  # statsforecast names output columns by the model's alias
    return model


class StatsForecaster:
    """One statsforecast model with conformal quantiles (scikit-learn style estimator)."""

    def __init__(self, model: str = "AutoETS", season_length: int = 7, horizon: int = 28,
                 n_windows: int = 3, n_jobs: int = 1, freq: str = "1d") -> None:
        self.model = model
        self.season_length = season_length
        self.horizon = horizon
        self.n_windows = n_windows
        self.n_jobs = n_jobs
        self.freq = freq  # polars offset of the series: "1d" daily, "1mo" monthly

    def _sf(self) -> Any:
        from statsforecast import StatsForecast
        from statsforecast.models import HistoricAverage

        # A series too short for the model (AutoETS raises "tiny datasets" on a product
        # listed a few months ago) gets its historic average instead of failing the run.
        return StatsForecast(models=[build_model(self.model, self.season_length)],
                             freq=self.freq, n_jobs=self.n_jobs,
                             fallback_model=HistoricAverage())

    def fit(self, df: pl.DataFrame, X: pl.DataFrame | None = None) -> Self:
        """Cross-validate (errors for quantiles and selection), then fit on all of ``df``."""
        del X  # statistical models here use no exogenous features
        df = df.select("unique_id", "ds", "y").sort("unique_id", "ds")
        self.cv_ = self.cross_validate(df)
        self.offsets_ = offsets_from_cv(self.cv_, df)
        self.sf_ = self._sf().fit(df=df)
        self.ids_ = df["unique_id"].unique().sort()
        return self

    def cross_validate(self, df: pl.DataFrame) -> pl.DataFrame:
        """Rolling-origin errors: ``unique_id, cutoff, ds, h, y, mean``.

        Series too short for every window are left out of the windows they cannot fill.
        """
        need = self.horizon * self.n_windows + 2 * self.season_length
        lengths = df.group_by("unique_id").len()
        ok = lengths.filter(pl.col("len") > need)["unique_id"]
        if ok.is_empty():
            return pl.DataFrame(schema={"unique_id": pl.Utf8, "cutoff": pl.Date, "ds": pl.Date,
                                        "h": pl.Int32, "y": pl.Float64, "mean": pl.Float64})
        cv: pl.DataFrame = self._sf().cross_validation(
            df=df.filter(pl.col("unique_id").is_in(ok.implode())), h=self.horizon,
            n_windows=self.n_windows, step_size=self.horizon)
        return cv.select(
            "unique_id", "cutoff", "ds",
            pl.col("ds").rank("dense").over("unique_id", "cutoff").cast(pl.Int32).alias("h"),
            "y", pl.col(self.model).clip(lower_bound=0.0).alias("mean")
        ).filter(pl.col("mean").is_not_nan() & pl.col("mean").is_not_null())

    def predict(self, h: int, X_future: pl.DataFrame | None = None,
                quantiles: tuple[float, ...] = QUANTILES) -> pl.DataFrame:
        """``unique_id, ds, mean, q…`` for ``h`` days after the history's end."""
        del X_future
        fc = self.sf_.predict(h=h)
        point = fc.select("unique_id", "ds",
                          pl.col(self.model).fill_nan(0.0).clip(lower_bound=0.0).alias("mean"))
        return apply_offsets(point, self.offsets_, quantiles)
