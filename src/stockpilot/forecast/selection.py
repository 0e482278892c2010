"""Model choice by rolling-origin error (per demand class or per series), and the forecasts.

Pure (no I/O): takes a prepared frame, returns frames. Candidates are routed by each series'
demand class (Syntetos & Boylan 2005, :mod:`stockpilot.forecast.classify`): Croston-type
models (CrostonOptimized, TSB, ADIDA, IMAPA) were built for intermittent demand and compete
only on intermittent and lumpy series; ETS, Theta, ARIMA and MSTL assume continuous demand and
compete only on smooth and erratic series; the others (seasonal naive, window averages and the
global models) compete everywhere. A class left without a candidate gets all of them. Each
local model is fitted only on the series routed to it and every candidate is cross-validated
on rolling origins. Two ways to choose (``choice``):

* ``"class"`` (default): one model per demand class — the eligible candidate with the lowest
  volume-weighted RMSSE over the class's series on the backtest (weights: each series' units
  in the last 28 days, as the M5 weights but in units, since prices are not always known;
  scale: the series' one-step naive MSE from its first sale, M5 Competitors' Guide §4). A
  series without that model's backtest takes its own best.
* ``"series"``: each series gets the eligible candidate with its own lowest out-of-sample MSE.

Why class is the default: a series has only n_windows × h backtest days (84 for 3 × 28), so
the per-series winner is often the luckiest model, not the best. On the 972 real M5 daily
series (``docs/benchmarks.md``) per-series choice among SeasonalNaive, Croston, TSB, a window
average and the global LightGBM scored WRMSSE 0.632 where the class choice (LightGBM in every
class) scored 0.603; a 10–20 % margin in the global model's favour still lost (0.611–0.613).
Quantiles come from the chosen model's own errors (conformal), intermittent models included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any, cast

import polars as pl

from stockpilot.domain.series import split_unique_id
from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.classify import demand_classes
from stockpilot.forecast.data import Prepared
from stockpilot.forecast.ensemble import MeanEnsemble
from stockpilot.forecast.grouped import GroupedForecaster, store_groups
from stockpilot.forecast.stats import StatsForecaster

CLASSES = ("smooth", "erratic", "intermittent", "lumpy", "zero")
INTERMITTENT_MODELS = ("CrostonOptimized", "TSB", "ADIDA", "IMAPA")
CONTINUOUS_MODELS = ("AutoETS", "AutoTheta", "AutoARIMA", "MSTL")
#: Demand classes each model competes in; a model not listed competes in every class.
ROUTES: dict[str, frozenset[str]] = (
    {m: frozenset({"intermittent", "lumpy"}) for m in INTERMITTENT_MODELS}
    | {m: frozenset({"smooth", "erratic"}) for m in CONTINUOUS_MODELS})
#: A routing (in place of a frequency) under which the continuous models compete in every
#: demand class (the intermittent ones keep theirs). Monthly totals were suspected of being
#: routed wrongly (an item with a sale every second month is a level with noise rather than a
#: Croston process); measured on the M5 monthly totals (benchmarks/forecast_m5_monthly.py,
#: docs/benchmarks.md): no gain on the early windows (WRMSSE 1.083 vs 1.080 with the daily
#: routing), so every frequency keeps the daily routing; the benchmark measures this one.
EVERYWHERE = "everywhere"
CONTINUOUS_EVERYWHERE = frozenset({EVERYWHERE})
#: The per-group LightGBM candidates: name -> (base candidate, grouping). A grouping is a key
#: of ``forecast_frame``'s ``groups``: ``store`` (the id's location), ``dept`` (the SKU's
#: catalogue category); see :mod:`stockpilot.forecast.grouped`.
GROUPED_MODELS = {f"{base}-{by}": (base, by) for by in ("store", "dept")
                  for base in ("LightGBM", "LightGBMDirect")}
#: The LightGBM-family candidates: the members an ``Ensemble`` averages.
LGBM_FAMILY = ("LightGBM", "LightGBMDirect", *GROUPED_MODELS)
ENSEMBLE = "Ensemble"
#: Models fitted once on all series (they learn across series); the rest are per series.
GLOBAL_MODELS = frozenset({*LGBM_FAMILY, ENSEMBLE, "LSTM", "Transformer",
                           "NF-LSTM", "GRU", "NHITS", "TFT"})
#: Global models that read future-known covariates (events, prices, promotions).
COVARIATE_MODELS = frozenset(LGBM_FAMILY)

Progress = Callable[[str], None]
#: Builds a candidate: ``(name, horizon, n_windows, freq, season_length) -> forecaster``.
Factory = Callable[..., Any]
CHOICES = ("class", "series")


@dataclass
class Forecasts:
    """Forecasts of the chosen model per series, its rolling-origin errors, and the choice."""

    forecasts: pl.DataFrame
    cv: pl.DataFrame
    choice: pl.DataFrame
    #: the fitted candidates by name (kept by the registry as the run's artefacts)
    fitted: dict[str, Any] = field(default_factory=dict)


def forecast_frame(prep: Prepared, models: Sequence[str], horizon: int, n_windows: int,
                   say: Progress | None = None, covariates: pl.DataFrame | None = None,
                   freq: str = "1d", season_length: int = 7, choice: str = "class",
                   factory: Factory | None = None,
                   groups: Mapping[str, pl.DataFrame] | None = None) -> Forecasts:
    """Route, cross-validate and fit every candidate, choose, forecast — no I/O.

    ``covariates`` (``unique_id, ds, …`` over the history and the ``horizon`` days after it,
    see :mod:`stockpilot.forecast.features`) go to the models that use them (LightGBM).
    ``freq``/``season_length`` describe the series for the statistical models (daily by
    default; ``"1mo"``/12 for monthly totals — the global models are daily only).
    ``choice``: ``"class"`` or ``"series"`` (see the module docstring).
    ``factory`` builds each candidate (default :func:`make_forecaster`; e.g.
    :func:`stockpilot.forecast.scale.large_panel_factory` for tens of thousands of series);
    a ``-store``/``-dept`` candidate is its base candidate from ``factory``, once per group.
    ``groups``: ``{"store": …, "dept": …}``, each ``unique_id, group``, for those candidates
    (``store`` defaults to each id's location; ``dept`` must be given to use ``-dept``).
    ``Ensemble`` is fitted last, as the mean of the other LightGBM-family candidates.
    """
    check_choice(choice)
    check_models(models)
    groups = _groups(prep, models, groups)
    make = factory or make_forecaster
    say = say or (lambda _m: None)
    classes = demand_classes(prep.df)
    route = routes(classes, models, freq)
    fitted: dict[str, Any] = {}
    for name, ids in sorted(routed(route, models), key=lambda r: r[0] == ENSEMBLE):
        say(f"cross-validating and fitting {name} on {ids.height} series")
        df = prep.df if name in GLOBAL_MODELS else prep.df.join(ids, on="unique_id",
                                                                how="semi")
        X = covariates if name in COVARIATE_MODELS else None
        if name == ENSEMBLE:
            members = {m: f for m, f in fitted.items() if m in LGBM_FAMILY}
            fitted[name] = MeanEnsemble(members).fit(df)
        elif name in GROUPED_MODELS:
            base, by = GROUPED_MODELS[name]
            fitted[name] = GroupedForecaster(
                partial(make, base, horizon, n_windows, freq, season_length), groups[by]
            ).fit(df, X)
        else:
            fitted[name] = make(name, horizon, n_windows, freq, season_length).fit(df, X)
    say(f"choosing a model per {choice}")
    return assemble(fitted, route, classes, prep, horizon, freq, choice)


def check_models(models: Sequence[str]) -> None:
    """Refuse an ``Ensemble`` with fewer than two LightGBM-family members, before any work."""
    if ENSEMBLE not in models:
        return
    members = [m for m in models if m in LGBM_FAMILY]
    if len(members) < 2:
        raise StockpilotError(
            f"Ensemble averages the LightGBM-family candidates of the run and needs two or "
            f"more (got {', '.join(members) or 'none'}): add some of "
            f"{', '.join(m for m in LGBM_FAMILY if m not in members)}")


def groupings(models: Sequence[str]) -> set[str]:
    """The groupings (``store``, ``dept``) used by the ``-store``/``-dept`` models in ``models``."""
    return {GROUPED_MODELS[m][1] for m in models if m in GROUPED_MODELS}


def _groups(prep: Prepared, models: Sequence[str],
            groups: Mapping[str, pl.DataFrame] | None) -> dict[str, pl.DataFrame]:
    """The groupings the ``-store``/``-dept`` candidates in ``models`` need (checked)."""
    out = dict(groups or {})
    out.setdefault("store", store_groups(prep.df["unique_id"].unique().sort()))
    for name in models:
        by = GROUPED_MODELS[name][1] if name in GROUPED_MODELS else None
        if by is not None and by not in out:
            raise StockpilotError(f"{name} needs each series' {by}: pass groups={{{by!r}: "
                                  "frame of unique_id, group}}")
    return out


def assemble(fitted: dict[str, Any], route: pl.DataFrame, classes: pl.DataFrame,
             prep: Prepared, horizon: int, freq: str, choice: str) -> Forecasts:
    """Choose among the fitted candidates, forecast with the chosen ones, keep their errors."""
    chosen = _choose(fitted, route, classes, prep.df if choice == "class" else None)
    preds = {name: f.predict(horizon) for name, f in fitted.items()}  # each model once
    forecasts = _forecast(preds, chosen, horizon, prep, freq)
    # a series whose chosen model could not forecast it (e.g. too short for LightGBM's lags)
    # takes the first eligible candidate that did
    lost = chosen.filter(~pl.col("unique_id").is_in(forecasts["unique_id"].unique().implode()))
    if lost.height:
        could = pl.concat([p.select("unique_id").unique()
                           .with_columns(pl.lit(name).alias("model"))
                           for name, p in preds.items()])
        instead = route.join(lost.select("unique_id"), on="unique_id", how="semi") \
            .join(could, on=["unique_id", "model"], how="semi") \
            .sort("rank").group_by("unique_id", maintain_order=True).first() \
            .select("unique_id", pl.col("model").alias("_instead"))
        chosen = chosen.join(instead, on="unique_id", how="left").with_columns(
            pl.coalesce("_instead", "model").alias("model")).drop("_instead")
        forecasts = _forecast(preds, chosen, horizon, prep, freq)
    cv = pl.concat([f.cv_.join(chosen.filter(pl.col("model") == m), on="unique_id", how="semi")
                    for m, f in fitted.items()])
    return Forecasts(forecasts, cv, chosen, fitted)


def check_choice(choice: str) -> None:
    """Refuse an unknown ``choice`` with the ones there are."""
    if choice not in CHOICES:
        raise StockpilotError(f"unknown choice {choice!r}: use one of {', '.join(CHOICES)}")


def eligible(models: Sequence[str], demand_class: str, freq: str = "1d") -> list[str]:
    """The candidates that compete for a series of ``demand_class`` (all, if none would).

    Under the routing :data:`EVERYWHERE` (given as ``freq``) the continuous models compete in
    every class (the intermittent ones keep their classes); every frequency routes as daily.
    """
    def classes_of(m: str) -> frozenset[str] | tuple[str, ...]:
        if m in CONTINUOUS_MODELS and freq in CONTINUOUS_EVERYWHERE:
            return CLASSES
        return ROUTES.get(m, CLASSES)

    ok = [m for m in models if demand_class in classes_of(m)]
    return ok or list(models)


def routes(classes: pl.DataFrame, models: Sequence[str], freq: str = "1d") -> pl.DataFrame:
    """``unique_id, model, rank`` for every (series, eligible candidate); rank = list order.

    ``freq``: the series' polars offset (see :func:`eligible`).
    """
    table = pl.DataFrame(
        [(k, m, models.index(m)) for k in CLASSES for m in eligible(models, k, freq)],
        schema={"demand_class": pl.Utf8, "model": pl.Utf8, "rank": pl.Int32}, orient="row")
    return classes.select("unique_id", "demand_class").join(table, on="demand_class") \
        .select("unique_id", "model", "rank")


def routed(route: pl.DataFrame, models: Sequence[str]) -> Iterator[tuple[str, pl.DataFrame]]:
    """``(model, unique_id frame)`` for each candidate that some series is routed to."""
    for name in models:
        ids = route.filter(pl.col("model") == name).select("unique_id")
        if not ids.is_empty():
            yield name, ids


def make_forecaster(name: str, horizon: int, n_windows: int, freq: str = "1d",
                    season_length: int = 7) -> Any:
    """A forecaster by name: LightGBM, LSTM, Transformer (global) or a statsforecast model.

    ``LSTM`` and ``Transformer`` need PyTorch (the ``deep`` extra). The ``-store``/``-dept``
    candidates and ``Ensemble`` are built by :func:`forecast_frame` (they need the groups or
    the other candidates).
    """
    if name in GROUPED_MODELS or name == ENSEMBLE:
        raise StockpilotError(f"{name} is built by forecast_frame from its base candidates, "
                              "not by a factory")
    if name == "LightGBM":
        from stockpilot.forecast.lgbm import LGBMForecaster

        return LGBMForecaster(horizon=horizon, n_windows=n_windows)
    if name == "LightGBMDirect":
        from stockpilot.forecast.lgbm_direct import LGBMDirectForecaster

        return LGBMDirectForecaster(horizon=horizon, n_windows=n_windows)
    if name in ("NF-LSTM", "GRU", "NHITS", "TFT"):
        from stockpilot.forecast.neural import NeuralForecaster

        return NeuralForecaster(name, horizon=horizon, n_windows=min(n_windows, 1))
    if name in ("LSTM", "Transformer"):
        from stockpilot.forecast.deep import DeepForecaster

        return DeepForecaster(name, horizon=horizon, n_windows=min(n_windows, 1))
    return StatsForecaster(name, season_length=season_length, horizon=horizon,
                           n_windows=n_windows, freq=freq)


def _choose(fitted: dict[str, Any], route: pl.DataFrame, classes: pl.DataFrame,
            history: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per series: its class, each candidate's CV MSE (``mse_<model>``), the choice, its MSE.

    With ``history`` (``unique_id, ds, y``) the choice is per demand class (see
    :func:`class_winners`); without, per series. Series too short to cross-validate take
    their class's model under the class choice (their first eligible candidate when that
    model is not eligible for them, and always under the per-series choice); a series the
    chosen model cannot forecast is given another in :func:`assemble`.
    """
    err = ((pl.col("y") - pl.col("mean")) ** 2).mean().alias("mse")
    long = pl.concat([f.cv_.group_by("unique_id").agg(err).with_columns(
        pl.lit(name).alias("model")) for name, f in fitted.items()])
    long = long.join(route, on=["unique_id", "model"], how="inner")
    best = long.sort("mse", "rank").group_by("unique_id", maintain_order=True).first() \
        .select("unique_id", "model", pl.col("mse").alias("cv_mse"))
    if history is not None:
        winners = class_winners(long, classes, history)
        by_class = classes.select("unique_id", "demand_class").join(
            winners.select("demand_class", "model"), on="demand_class").join(
            long.select("unique_id", "model", pl.col("mse").alias("cv_mse")),
            on=["unique_id", "model"])  # only series that have the class model's backtest
        best = pl.concat([by_class.drop("demand_class"),
                          best.join(by_class, on="unique_id", how="anti")])
        # series too short for any backtest: their class's model, where it is eligible
        short = classes.select("unique_id", "demand_class").join(best, on="unique_id",
                                                                  how="anti")
        short = short.join(winners.select("demand_class", "model"), on="demand_class") \
            .join(route.select("unique_id", "model"), on=["unique_id", "model"], how="semi")
        best = pl.concat([best, short.select("unique_id", "model",
                                             pl.lit(None, pl.Float64).alias("cv_mse"))])
    wide = long.pivot(on="model", index="unique_id", values="mse")
    wide = wide.rename({m: f"mse_{m}" for m in wide.columns if m != "unique_id"})
    first = route.sort("rank").group_by("unique_id", maintain_order=True).first() \
        .select("unique_id", pl.col("model").alias("_first"))
    out = classes.join(wide, on="unique_id", how="left").join(best, on="unique_id",
                                                              how="left")
    out = out.join(first, on="unique_id", how="left").with_columns(
        pl.coalesce("model", "_first").alias("model")).drop("_first")
    return out


def class_winners(long: pl.DataFrame, classes: pl.DataFrame, history: pl.DataFrame
                  ) -> pl.DataFrame:
    """Per demand class, the candidate with the lowest volume-weighted backtest RMSSE.

    Args:
        long: ``unique_id, model, mse, rank`` — each eligible candidate's backtest MSE.
        classes: ``unique_id, demand_class``.
        history: ``unique_id, ds, y``: scales (one-step naive MSE from the first sale, M5
            Competitors' Guide §4) and weights (units of the last 28 days; equal weights in a
            class that sold nothing then).

    Returns:
        ``demand_class, model, wrmsse, series``. Only candidates with a backtest on as many of
        the class's series as the best-covered candidate compete, so that a model fitted on a
        few easy series cannot win the class.
    """
    end = cast(date, history["ds"].max())
    live = history.sort("unique_id", "ds").filter((pl.col("y") > 0).cum_max().over("unique_id"))
    step = (pl.col("y") - pl.col("y").shift(1)).over("unique_id") ** 2
    scale = live.with_columns(step.alias("d2")).group_by("unique_id").agg(
        pl.col("d2").mean().alias("scale"),
        pl.col("y").filter(pl.col("ds") > end - timedelta(days=28)).sum().alias("units"))
    per = long.join(classes.select("unique_id", "demand_class"), on="unique_id") \
        .join(scale, on="unique_id").filter(pl.col("scale") > 0)
    w = pl.when(pl.col("units").sum().over("demand_class", "model") > 0) \
        .then(pl.col("units")).otherwise(1.0)
    score = per.with_columns(w.alias("w"), (pl.col("mse") / pl.col("scale")).sqrt().alias("r")) \
        .group_by("demand_class", "model").agg(
            ((pl.col("w") * pl.col("r")).sum() / pl.col("w").sum()).alias("wrmsse"),
            pl.len().alias("series"), pl.col("rank").first())
    covered = pl.col("series") == pl.col("series").max().over("demand_class")
    return score.filter(covered).sort("wrmsse", "rank").group_by(
        "demand_class", maintain_order=True).first().select(
        "demand_class", "model", "wrmsse", "series")


def _forecast(preds: dict[str, pl.DataFrame], choice: pl.DataFrame, horizon: int,
              prep: Prepared, freq: str = "1d") -> pl.DataFrame:
    """Each series' rows from its chosen model's predictions (``preds`` by model)."""
    parts: list[pl.DataFrame] = []
    for name, pred in preds.items():
        fc = pred.join(choice.filter(pl.col("model") == name)
                                     .select("unique_id"), on="unique_id", how="semi")
        parts.append(fc.with_columns(pl.lit(name).alias("model")))
    out = pl.concat(parts, how="diagonal")
    if prep.all_zero:
        out = pl.concat([out, _zeros(prep.all_zero, prep.end, horizon, freq)],
                        how="diagonal")
    return out.with_columns(split_unique_id()).select(
        "unique_id", "sku", "location", "ds", "model", "mean", *QUANTILE_COLUMNS
    ).sort("unique_id", "ds")


def _zeros(ids: list[str], end: date, horizon: int, freq: str = "1d") -> pl.DataFrame:
    per = 31 if freq.endswith("mo") else 7 if freq.endswith("w") else 1
    stop = end + timedelta(days=(horizon + 1) * per)
    days = pl.date_range(end, stop, freq, eager=True)[1:horizon + 1].to_list()
    frame = pl.DataFrame({"unique_id": ids}).join(pl.DataFrame({"ds": days}), how="cross")
    return frame.with_columns(pl.lit(0.0).alias("mean"), pl.lit("zero").alias("model"),
                              *[pl.lit(0.0).alias(c) for c in QUANTILE_COLUMNS])
