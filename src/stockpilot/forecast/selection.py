"""Model choice per series by rolling-origin error, and the forecasts of the chosen models.

Pure (no I/O): takes a prepared frame, returns frames. Every candidate is cross-validated on
rolling origins (statsforecast); each series gets the candidate with the lowest out-of-sample
mean squared error (the RMSSE's numerator — the scale is the series' own, so the ranking is
the same). Quantiles come from that model's own errors (conformal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.classify import demand_classes
from stockpilot.forecast.data import Prepared
from stockpilot.forecast.stats import StatsForecaster

Progress = Callable[[str], None]


@dataclass
class Forecasts:
    """Forecasts of the chosen model per series, its rolling-origin errors, and the choice."""

    forecasts: pl.DataFrame
    cv: pl.DataFrame
    choice: pl.DataFrame


def forecast_frame(prep: Prepared, models: Sequence[str], horizon: int, n_windows: int,
                   say: Progress | None = None) -> Forecasts:
    """Cross-validate and fit every candidate, choose per series, forecast — no I/O."""
    say = say or (lambda _m: None)
    classes = demand_classes(prep.df)
    fitted: dict[str, Any] = {}
    for name in models:
        say(f"cross-validating and fitting {name}")
        fitted[name] = make_forecaster(name, horizon, n_windows).fit(prep.df)
    say("choosing a model per series")
    choice = _choose(fitted, classes)
    forecasts = _forecast(fitted, choice, horizon, prep)
    cv = pl.concat([f.cv_.join(choice.filter(pl.col("model") == m), on="unique_id", how="semi")
                    for m, f in fitted.items()])
    return Forecasts(forecasts, cv, choice)


def make_forecaster(name: str, horizon: int, n_windows: int) -> Any:
    """A forecaster by name: ``LightGBM`` (global, mlforecast) or any statsforecast model."""
    if name == "LightGBM":
        from stockpilot.forecast.lgbm import LGBMForecaster

        return LGBMForecaster(horizon=horizon, n_windows=n_windows)
    return StatsForecaster(name, horizon=horizon, n_windows=n_windows)


def _choose(fitted: dict[str, Any], classes: pl.DataFrame) -> pl.DataFrame:
    mse = None
    for name, f in fitted.items():
        m = f.cv_.group_by("unique_id").agg(((pl.col("y") - pl.col("mean")) ** 2).mean()
                                            .alias(f"mse_{name}"))
        mse = m if mse is None else mse.join(m, on="unique_id", how="full", coalesce=True)
    names = list(fitted)
    cols = [f"mse_{n}" for n in names]
    best = pl.concat_list([pl.col(c).fill_null(float("inf")) for c in cols]).list.arg_min()
    chosen = mse.with_columns(  # type: ignore[union-attr]
        best.map_elements(lambda i: names[i], return_dtype=pl.Utf8).alias("model"),
        pl.min_horizontal(*cols).alias("cv_mse"))
    out = classes.join(chosen, on="unique_id", how="left")
    # series too short to cross-validate fall back to the first candidate (a seasonal naive)
    return out.with_columns(pl.col("model").fill_null(names[0]))


def _forecast(fitted: dict[str, Any], choice: pl.DataFrame, horizon: int,
              prep: Prepared) -> pl.DataFrame:
    parts = []
    for name, f in fitted.items():
        fc = f.predict(horizon).join(choice.filter(pl.col("model") == name)
                                     .select("unique_id"), on="unique_id", how="semi")
        parts.append(fc.with_columns(pl.lit(name).alias("model")))
    out = pl.concat(parts, how="diagonal")
    if prep.all_zero:
        out = pl.concat([out, _zeros(prep.all_zero, prep.end, horizon)], how="diagonal")
    parts_id = pl.col("unique_id").str.split_exact("@", 1)
    return out.with_columns(parts_id.struct.field("field_0").alias("sku"),
                            parts_id.struct.field("field_1").alias("location")).select(
        "unique_id", "sku", "location", "ds", "model", "mean", *QUANTILE_COLUMNS
    ).sort("unique_id", "ds")


def _zeros(ids: list[str], end: date, horizon: int) -> pl.DataFrame:
    days = [end + timedelta(days=i) for i in range(1, horizon + 1)]
    frame = pl.DataFrame({"unique_id": ids}).join(pl.DataFrame({"ds": days}), how="cross")
    return frame.with_columns(pl.lit(0.0).alias("mean"), pl.lit("zero").alias("model"),
                              *[pl.lit(0.0).alias(c) for c in QUANTILE_COLUMNS])
