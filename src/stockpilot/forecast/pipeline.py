"""``stockpilot forecast``: classify, cross-validate candidates, choose, forecast.

The choice itself is :mod:`stockpilot.forecast.selection` (pure); this module reads the
history store and writes the run to it:

    forecasts/latest      unique_id, sku, location, ds, model, mean, q0.005 … q0.995
    forecasts/series      unique_id, demand_class, model, cv_mse (per candidate: mse_<model>)
    forecasts/cv          the chosen models' rolling-origin errors (for lead-time quantiles)
    runs/<run_id>.json    config, data fingerprint, metrics (the model registry)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import cast

import polars as pl

from stockpilot.forecast.censoring import impute_censored
from stockpilot.forecast.data import Prepared, prepare, to_long
from stockpilot.forecast.outliers import flag_outliers
from stockpilot.forecast.outliers import winsorise as winsorise_frame
from stockpilot.forecast.selection import Progress, check_choice, forecast_frame
from stockpilot.store.history import HistoryStore

DEFAULT_MODELS = ("SeasonalNaive", "CrostonOptimized", "TSB", "AutoETS")


@dataclass
class ForecastRun:
    """What one forecasting run did (also the registry record)."""

    run_id: str
    created_at: str
    horizon: int
    models: list[str]
    n_windows: int
    end: str
    series: int
    data_fingerprint: str
    notes: list[str] = field(default_factory=list)
    chosen: dict[str, int] = field(default_factory=dict)
    cv_mse: dict[str, float] = field(default_factory=dict)
    cv_mse_chosen: float = 0.0
    refit: bool = True
    choice: str = "class"


def fingerprint(df: pl.DataFrame) -> str:
    """A short hash of the history a run was fitted on."""
    h = df.select(pl.col("y").sum(), pl.len(), pl.col("ds").max(),
                  pl.col("unique_id").n_unique()).row(0)
    return hashlib.sha256(repr(h).encode()).hexdigest()[:16]


def run_forecast(history: HistoryStore, *, horizon: int = 28,
                 models: Sequence[str] = DEFAULT_MODELS, n_windows: int = 3,
                 end: date | None = None, sources: list[str] | None = None,
                 winsorise: bool = False, retrain_if_drift: float | None = None,
                 progress: Progress | None = None, engine: str = "local",
                 choice: str = "class") -> ForecastRun:
    """Forecast every series in the history store; see the module docstring.

    Censored days (``stockouts`` from the ledger) are imputed before fitting; outliers are
    flagged into ``forecasts/outliers`` and, with ``winsorise``, pulled in before fitting.
    ``engine="spark"`` runs the statistical candidates on Spark (:mod:`.spark`); ``choice``
    picks one model per demand class (default) or per series (:mod:`.selection`).
    """
    say = progress or (lambda _m: None)
    prep = prepare(to_long(history.daily(sources=sources)), end)
    if retrain_if_drift is not None:
        kept = _keep_if_no_drift(history, prep, retrain_if_drift)
        if kept is not None:
            return kept
    stockouts = history.scan("stockouts")
    if stockouts is not None:
        censored = stockouts.collect().select(
            (pl.col("sku") + "@" + pl.col("location")).alias("unique_id"),
            pl.col("date").alias("ds"))
        prep.df = impute_censored(prep.df, censored)
        prep.notes.append(f"{censored.height} censored (stockout) days imputed")
    flags = flag_outliers(prep.df)
    history.write("forecasts", "outliers", flags.filter(pl.col("outlier")))
    n_out = int(flags["outlier"].sum())
    if n_out:
        prep.notes.append(f"{n_out} outlier days flagged (forecasts/outliers)"
                          + ("; winsorised before fitting" if winsorise else ""))
    if winsorise:
        prep.df = winsorise_frame(flags)
    check_choice(choice)
    if engine == "spark":
        from stockpilot.forecast.spark import forecast_frame as on_spark
        prep.notes.append("engine spark: statistical candidates ran on Spark")
        result = on_spark(prep, models, horizon, n_windows, say, choice)
    else:
        result = forecast_frame(prep, models, horizon, n_windows, say, choice=choice)
    run = _record(prep, horizon, list(models), n_windows, result.choice)
    run.choice = choice
    say("writing forecasts")
    history.write("forecasts", "latest", result.forecasts)
    history.write("forecasts", "series", result.choice)
    history.write("forecasts", "cv", result.cv)
    _register(history, run)
    return run


def _record(prep: Prepared, horizon: int, models: list[str], n_windows: int,
            choice: pl.DataFrame) -> ForecastRun:
    fp = fingerprint(prep.df)
    now = datetime.now(UTC)
    chosen = dict(choice.group_by("model").len().iter_rows())
    cv = {m: float(cast(float, choice[f"mse_{m}"].mean()) or 0.0) for m in models
          if f"mse_{m}" in choice.columns}
    chosen_mse = float(cast(float, choice["cv_mse"].filter(choice["cv_mse"].is_finite()).mean())
                       or 0.0)
    return ForecastRun(f"{now:%Y%m%dT%H%M%S}-{fp[:6]}", now.isoformat(), horizon, models,
                       n_windows, prep.end.isoformat(), prep.df["unique_id"].n_unique(), fp,
                       prep.notes, chosen, cv, chosen_mse)


def drift_ratio(history: HistoryStore, prep: Prepared) -> tuple[float, int] | None:
    """(MSE of the latest forecasts on the days that arrived since ÷ their CV MSE, days).

    None when there is no previous run or no new day to judge it on.
    """
    latest = history.root / "runs" / "latest.json"
    if not latest.exists() or "latest" not in history.parts("forecasts"):
        return None
    run = json.loads(latest.read_text())
    fc = history.read("forecasts", "latest").select("unique_id", "ds", "mean")
    new = prep.df.join(fc, on=["unique_id", "ds"], how="inner")
    if new.is_empty() or not run.get("cv_mse_chosen"):
        return None
    mse = float(new.select(((pl.col("y") - pl.col("mean")) ** 2).mean()).item())
    return mse / run["cv_mse_chosen"], new["ds"].n_unique()


def _keep_if_no_drift(history: HistoryStore, prep: Prepared, threshold: float
                      ) -> ForecastRun | None:
    """The previous run, unchanged, when its error on new days stays within ``threshold``×."""
    got = drift_ratio(history, prep)
    if got is None:
        return None
    ratio, days = got
    if ratio > threshold:
        prep.notes.append(f"drift: error on {days} new days is {ratio:.2f}× the backtest's "
                          f"(threshold {threshold}) — refitting")
        return None
    run = ForecastRun(**json.loads((history.root / "runs" / "latest.json").read_text()))
    run.refit = False
    run.notes = [f"no drift: error on {days} new days is {ratio:.2f}× the backtest's "
                 f"(threshold {threshold}) — kept run {run.run_id}"]
    return run


def _register(history: HistoryStore, run: ForecastRun) -> None:
    folder = history.root / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{run.run_id}.json").write_text(json.dumps(asdict(run), indent=2))
    (folder / "latest.json").write_text(json.dumps(asdict(run), indent=2))
