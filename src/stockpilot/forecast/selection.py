"""Model choice per series by rolling-origin error, and the forecasts of the chosen models.

Pure (no I/O): takes a prepared frame, returns frames. Candidates are routed by each series'
demand class (Syntetos & Boylan 2005, :mod:`stockpilot.forecast.classify`): Croston-type
models (CrostonOptimized, TSB, ADIDA, IMAPA) were built for intermittent demand and compete
only on intermittent and lumpy series; ETS, Theta, ARIMA and MSTL assume continuous demand and
compete only on smooth and erratic series; the others (seasonal naive, window averages and the
global models) compete everywhere. A class left without a candidate gets all of them. Each
local model is fitted only on the series routed to it; every candidate is cross-validated on
rolling origins and each series gets the eligible candidate with the lowest out-of-sample mean
squared error (the RMSSE's numerator — the scale is the series' own, so the ranking is the
same). Quantiles come from that model's own errors (conformal), intermittent models included.
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

CLASSES = ("smooth", "erratic", "intermittent", "lumpy", "zero")
INTERMITTENT_MODELS = ("CrostonOptimized", "TSB", "ADIDA", "IMAPA")
CONTINUOUS_MODELS = ("AutoETS", "AutoTheta", "AutoARIMA", "MSTL")
#: Demand classes each model competes in; a model not listed competes in every class.
ROUTES: dict[str, frozenset[str]] = (
    {m: frozenset({"intermittent", "lumpy"}) for m in INTERMITTENT_MODELS}
    | {m: frozenset({"smooth", "erratic"}) for m in CONTINUOUS_MODELS})
#: Models fitted once on all series (they learn across series); the rest are per series.
GLOBAL_MODELS = frozenset({"LightGBM", "LSTM", "Transformer"})

Progress = Callable[[str], None]


@dataclass
class Forecasts:
    """Forecasts of the chosen model per series, its rolling-origin errors, and the choice."""

    forecasts: pl.DataFrame
    cv: pl.DataFrame
    choice: pl.DataFrame


def forecast_frame(prep: Prepared, models: Sequence[str], horizon: int, n_windows: int,
                   say: Progress | None = None, covariates: pl.DataFrame | None = None,
                   freq: str = "1d", season_length: int = 7) -> Forecasts:
    """Route, cross-validate and fit every candidate, choose per series, forecast — no I/O.

    ``covariates`` (``unique_id, ds, …`` over the history and the ``horizon`` days after it,
    see :mod:`stockpilot.forecast.features`) go to the models that use them (LightGBM).
    ``freq``/``season_length`` describe the series for the statistical models (daily by
    default; ``"1mo"``/12 for monthly totals — the global models are daily only).
    """
    say = say or (lambda _m: None)
    classes = demand_classes(prep.df)
    route = routes(classes, models)
    fitted: dict[str, Any] = {}
    for name in models:
        ids = route.filter(pl.col("model") == name).select("unique_id")
        if ids.is_empty():
            continue
        say(f"cross-validating and fitting {name} on {ids.height} series")
        df = prep.df if name in GLOBAL_MODELS else prep.df.join(ids, on="unique_id",
                                                                how="semi")
        X = covariates if name == "LightGBM" else None
        fitted[name] = make_forecaster(name, horizon, n_windows, freq, season_length) \
            .fit(df, X)
    say("choosing a model per series")
    choice = _choose(fitted, route, classes)
    forecasts = _forecast(fitted, choice, horizon, prep, freq)
    cv = pl.concat([f.cv_.join(choice.filter(pl.col("model") == m), on="unique_id", how="semi")
                    for m, f in fitted.items()])
    return Forecasts(forecasts, cv, choice)


def eligible(models: Sequence[str], demand_class: str) -> list[str]:
    """The candidates that compete for a series of ``demand_class`` (all, if none would)."""
    ok = [m for m in models if demand_class in ROUTES.get(m, CLASSES)]
    return ok or list(models)


def routes(classes: pl.DataFrame, models: Sequence[str]) -> pl.DataFrame:
    """``unique_id, model, rank`` for every (series, eligible candidate); rank = list order."""
    table = pl.DataFrame(
        [(k, m, models.index(m)) for k in CLASSES for m in eligible(models, k)],
        schema={"demand_class": pl.Utf8, "model": pl.Utf8, "rank": pl.Int32}, orient="row")
    return classes.select("unique_id", "demand_class").join(table, on="demand_class") \
        .select("unique_id", "model", "rank")


def make_forecaster(name: str, horizon: int, n_windows: int, freq: str = "1d",
                    season_length: int = 7) -> Any:
    """A forecaster by name: LightGBM, LSTM, Transformer (global) or a statsforecast model.

    ``LSTM`` and ``Transformer`` need PyTorch (the ``deep`` extra).
    """
    if name == "LightGBM":
        from stockpilot.forecast.lgbm import LGBMForecaster

        return LGBMForecaster(horizon=horizon, n_windows=n_windows)
    if name in ("LSTM", "Transformer"):
        from stockpilot.forecast.deep import DeepForecaster

        return DeepForecaster(name, horizon=horizon, n_windows=min(n_windows, 1))
    return StatsForecaster(name, season_length=season_length, horizon=horizon,
                           n_windows=n_windows, freq=freq)


def _choose(fitted: dict[str, Any], route: pl.DataFrame, classes: pl.DataFrame
            ) -> pl.DataFrame:
    """Per series: its class, each candidate's CV MSE (``mse_<model>``), the choice, its MSE.

    Series too short to cross-validate take their first eligible candidate.
    """
    err = ((pl.col("y") - pl.col("mean")) ** 2).mean().alias("mse")
    long = pl.concat([f.cv_.group_by("unique_id").agg(err).with_columns(
        pl.lit(name).alias("model")) for name, f in fitted.items()])
    long = long.join(route, on=["unique_id", "model"], how="inner")
    best = long.sort("mse", "rank").group_by("unique_id", maintain_order=True).first() \
        .select("unique_id", "model", pl.col("mse").alias("cv_mse"))
    wide = long.pivot(on="model", index="unique_id", values="mse")
    wide = wide.rename({m: f"mse_{m}" for m in wide.columns if m != "unique_id"})
    first = route.sort("rank").group_by("unique_id", maintain_order=True).first() \
        .select("unique_id", pl.col("model").alias("_first"))
    out = classes.join(wide, on="unique_id", how="left").join(best, on="unique_id",
                                                              how="left")
    out = out.join(first, on="unique_id", how="left").with_columns(
        pl.coalesce("model", "_first").alias("model")).drop("_first")
    return out


def _forecast(fitted: dict[str, Any], choice: pl.DataFrame, horizon: int,
              prep: Prepared, freq: str = "1d") -> pl.DataFrame:
    parts = []
    for name, f in fitted.items():
        fc = f.predict(horizon).join(choice.filter(pl.col("model") == name)
                                     .select("unique_id"), on="unique_id", how="semi")
        parts.append(fc.with_columns(pl.lit(name).alias("model")))
    out = pl.concat(parts, how="diagonal")
    if prep.all_zero:
        out = pl.concat([out, _zeros(prep.all_zero, prep.end, horizon, freq)],
                        how="diagonal")
    parts_id = pl.col("unique_id").str.split_exact("@", 1)
    return out.with_columns(parts_id.struct.field("field_0").alias("sku"),
                            parts_id.struct.field("field_1").alias("location")).select(
        "unique_id", "sku", "location", "ds", "model", "mean", *QUANTILE_COLUMNS
    ).sort("unique_id", "ds")


def _zeros(ids: list[str], end: date, horizon: int, freq: str = "1d") -> pl.DataFrame:
    stop = end + timedelta(days=horizon * (31 if freq.endswith("mo") else 1))
    days = pl.date_range(end, stop, freq, eager=True)[1:horizon + 1].to_list()
    frame = pl.DataFrame({"unique_id": ids}).join(pl.DataFrame({"ds": days}), how="cross")
    return frame.with_columns(pl.lit(0.0).alias("mean"), pl.lit("zero").alias("model"),
                              *[pl.lit(0.0).alias(c) for c in QUANTILE_COLUMNS])
