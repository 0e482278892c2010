"""``stockpilot forecast``: classify, cross-validate candidates, choose, forecast.

The choice itself is :mod:`stockpilot.forecast.selection` (pure); this module reads the
history store and writes the run to it:

    forecasts/latest      unique_id, sku, location, ds, model, mean, q0.005 … q0.995
    forecasts/series      unique_id, demand_class, model, cv_mse (per candidate: mse_<model>)
    forecasts/cv          the chosen models' rolling-origin errors (for lead-time quantiles)
    runs/<run_id>.json    config, data fingerprint, metrics; runs/<run_id>/ the run's
                          frames and fitted models (the model registry, :mod:`.registry`)
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import cast

import polars as pl

from stockpilot.domain.series import unique_id
from stockpilot.errors import StockpilotError
from stockpilot.forecast import registry
from stockpilot.forecast.censoring import impute_censored, probable_stockouts
from stockpilot.forecast.data import Prepared, prepare, to_long
from stockpilot.forecast.frequency import Frequency, frequency, from_monthly, to_periods
from stockpilot.forecast.grouped import OTHER, category_groups, store_groups
from stockpilot.forecast.outliers import flag_outliers
from stockpilot.forecast.outliers import winsorise as winsorise_frame
from stockpilot.forecast.selection import (
    COVARIATE_MODELS,
    GLOBAL_MODELS,
    LGBM_FAMILY,
    Factory,
    Forecasts,
    Progress,
    check_choice,
    check_models,
    forecast_frame,
    groupings,
    make_forecaster,
)
from stockpilot.forecast.signals import Signals, covariates
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
    freq: str = "D"


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
                 choice: str = "class", censor_zero_runs: bool = False,
                 freq: str = "D", promote: bool = True, tune_trials: int | None = None,
                 tune_seconds: float | None = None) -> ForecastRun:
    """Forecast every series in the history store; see the module docstring.

    Censored days (``stockouts`` from the ledger or the sales import) are imputed before
    fitting; outliers are flagged into ``forecasts/outliers`` and, with ``winsorise``, pulled in
    before fitting. ``engine="spark"`` runs the statistical candidates on Spark (:mod:`.spark`),
    ``engine="dask"`` trains LightGBM on a Dask cluster (:mod:`.dask_lgbm`);
    ``choice`` picks one model per demand class (default) or per series (:mod:`.selection`).
    ``censor_zero_runs`` also treats implausible zero runs as stockouts
    (:func:`.censoring.probable_stockouts`; for histories without stock data, such as M5).
    ``freq`` ``W`` or ``M`` forecasts ``horizon`` weeks or months (:mod:`.frequency`) into
    ``forecasts/latest_weekly`` / ``latest_monthly`` (and ``series_…``, ``cv_…``); the daily
    ``forecasts/latest`` that planning reads is left alone. Every run's artefacts go to the
    registry (:mod:`.registry`); ``promote=False`` keeps the run as a challenger, not served.
    ``tune_trials``/``tune_seconds`` first search the LightGBM models' parameters with optuna
    (:mod:`.tuning`) on their own backtest, within that budget (local engine only).
    """
    say = progress or (lambda _m: None)
    check_models(models)
    f = frequency(freq)
    if f.code != "D" and GLOBAL_MODELS & set(models):
        raise StockpilotError(f"--freq {f.code}: the global models "
                              f"({', '.join(sorted(GLOBAL_MODELS & set(models)))}) are daily "
                              "only; use statistical models")
    prep = prepare(to_long(history.daily(sources=sources)), end)
    if retrain_if_drift is not None and f.code == "D":
        kept = _keep_if_no_drift(history, prep, retrain_if_drift)
        if kept is not None:
            return kept
    _clean(history, prep, winsorise, censor_zero_runs)
    check_choice(choice)
    if f.code != "D":
        prep = _periods(history, prep, f)
    groups = _groups(history, prep, models)
    if engine == "spark":
        from stockpilot.forecast.spark import forecast_frame as on_spark
        prep.notes.append("engine spark: statistical candidates ran on Spark")
        result = on_spark(prep, models, horizon, n_windows, say, choice, groups)
    else:
        factory = None
        if engine == "dask":
            from stockpilot.forecast.dask_lgbm import make_forecaster as on_dask
            prep.notes.append("engine dask: LightGBM trained on a Dask cluster")
            factory = on_dask
        cov = _covariates(history, prep, models, horizon, say) if f.code == "D" else None
        if tune_trials is not None or tune_seconds is not None:
            factory = _tuned_factory(prep, cov, models, horizon, n_windows, engine,
                                     tune_trials, tune_seconds, say)
        result = forecast_frame(prep, models, horizon, n_windows, say, cov,
                                freq=f.offset, season_length=f.season_length, choice=choice,
                                factory=factory, groups=groups)
    run = _record(prep, horizon, list(models), n_windows, result.choice)
    run.choice, run.freq = choice, f.code
    say("writing forecasts")
    _register(history, run, result, promote)
    return run


def _tuned_factory(prep: Prepared, cov: pl.DataFrame | None, models: Sequence[str],
                   horizon: int, n_windows: int, engine: str, trials: int | None,
                   seconds: float | None, say: Progress) -> Factory:
    """Search LightGBM's parameters (optuna, the budget given), then a factory that uses them.

    The search scores the recursive model's backtest (up to two windows of ``horizon`` days);
    every LightGBM-family candidate (direct and per-group ones too) then gets the parameters.
    """
    from stockpilot.forecast.tuning import tune_lgbm

    lgbm = [m for m in models if m in LGBM_FAMILY]
    if not lgbm:
        raise StockpilotError("--tune-trials/--tune-seconds tune LightGBM: add LightGBM, "
                              "LightGBMDirect or a per-store/department one to --models")
    if engine != "local":
        raise StockpilotError(f"tuning runs on the local engine only, not {engine!r}")
    say(f"tuning LightGBM ({trials or 'unlimited'} trials"
        + (f", {seconds:g} s" if seconds else "") + ")")
    tuned = tune_lgbm(prep.df, cov, horizon=horizon, n_windows=min(n_windows, 2),
                      n_trials=trials, timeout_s=seconds)
    prep.notes.append(f"LightGBM tuned by optuna: {tuned.trials} trials, backtest score "
                      f"{tuned.score:.4f}, parameters {json.dumps(tuned.params, sort_keys=True)}")
    return TunedFactory(tuned.kwargs())


@dataclass(frozen=True)
class TunedFactory:
    """:func:`make_forecaster` with tuned LightGBM parameters.

    A class, not a closure: fitted per-group models keep their factory, and the registry
    pickles them.
    """

    kwargs: dict[str, object]

    def __call__(self, name: str, horizon: int, n_windows: int, freq: str = "1d",
                 season_length: int = 7) -> object:
        """The candidate ``name``; LightGBM ones with the tuned parameters."""
        model = make_forecaster(name, horizon, n_windows, freq, season_length)
        if name in ("LightGBM", "LightGBMDirect"):  # the per-group ones are built from these
            for key, value in self.kwargs.items():
                setattr(model, key, value)
        return model


def _clean(history: HistoryStore, prep: Prepared, winsorise: bool, censor_zero_runs: bool
           ) -> None:
    """Impute censored days, flag (and optionally winsorise) outliers, in place."""
    stockouts = history.scan("stockouts")
    if stockouts is not None:
        censored = stockouts.collect().select(
            unique_id(),
            pl.col("date").alias("ds"))
        prep.df = impute_censored(prep.df, censored)
        prep.notes.append(f"{censored.height} censored (stockout) days imputed")
    if censor_zero_runs:
        _censor_zero_runs(history, prep)
    flags = flag_outliers(prep.df)
    history.write("forecasts", "outliers", flags.filter(pl.col("outlier")))
    n_out = int(flags["outlier"].sum())
    if n_out:
        prep.notes.append(f"{n_out} outlier days flagged (forecasts/outliers)"
                          + ("; winsorised before fitting" if winsorise else ""))
    if winsorise:
        prep.df = winsorise_frame(flags)


def _periods(history: HistoryStore, prep: Prepared, f: Frequency) -> Prepared:
    """Weekly or monthly frame: stored monthly totals when there are any, else summed days."""
    monthly = history.scan("monthly") if f.code == "M" else None
    if monthly is not None:
        return from_monthly(monthly.select("sku", "location", "month", "n_days", "units")
                            .collect())
    return to_periods(prep, f)


def _censor_zero_runs(history: HistoryStore, prep: Prepared) -> None:
    """Flag implausible zero runs (``forecasts/probable_stockouts``) and impute them."""
    flagged = probable_stockouts(prep.df)
    history.write("forecasts", "probable_stockouts", flagged)
    prep.df = impute_censored(prep.df, flagged.select("unique_id", "ds"))
    prep.notes.append(f"{flagged.height} days in {flagged['unique_id'].n_unique()} series "
                      "flagged as probable stockouts (zero runs) and imputed")


def load_signals(history: HistoryStore) -> Signals:
    """Events, promotions, prices and categories the history store holds (M5's included)."""
    def part(dataset: str, name: str) -> pl.DataFrame | None:
        return history.read(dataset, name) if name in history.parts(dataset) else None

    prices = history.scan("prices")
    cats = []
    for name in history.parts("series"):
        attrs = history.read("series", name)
        cats += [attrs.select("sku", pl.col(c).alias("category")) for c in
                 ("category", "dept_id", "cat_id") if c in attrs.columns]
    return Signals(
        calendar=part("calendar", "m5"), events=part("signals", "events"),
        promotions=part("signals", "promotions"),
        prices=None if prices is None else prices.select(
            "sku", "location", "valid_from", "valid_to", "price").collect(),
        categories=pl.concat(cats).unique() if cats else None)


def catalogue_categories(history: HistoryStore) -> pl.DataFrame | None:
    """``sku, category``: each SKU's department or category, as the history store keeps it.

    ``series/catalogue`` (the SQL catalogue's categories, copied by the CLI before a run with
    a ``-dept`` model and by promotion imports) comes first, then the import attributes
    (M5's ``series/m5``: ``dept_id``, else a ``category`` column). None when there are none.
    """
    names = history.parts("series")
    cats = []
    for name in sorted(names, key=lambda n: n != "catalogue"):
        attrs = history.read("series", name)
        column = next((c for c in ("category", "dept_id") if c in attrs.columns), None)
        if column is not None:
            cats.append(attrs.select("sku", pl.col(column).cast(pl.Utf8).alias("category"))
                        .drop_nulls())
    if not cats:
        return None
    return pl.concat(cats).unique("sku", keep="first", maintain_order=True)


def _groups(history: HistoryStore, prep: Prepared, models: Sequence[str]
            ) -> dict[str, pl.DataFrame]:
    """Per-store and per-department groups of the series, for the ``-store``/``-dept`` models.

    A series whose SKU has no category goes to the ``(other)`` group; the run notes how many.
    """
    ids = prep.df["unique_id"].unique().sort()
    groups = {"store": store_groups(ids)}
    if "dept" in groupings(models):
        dept = category_groups(ids, catalogue_categories(history))
        missing = dept["group"].null_count()
        groups["dept"] = dept
        if missing:
            prep.notes.append(f"{missing} of {dept.height} series have no category in the "
                              f"catalogue: the -dept models fit them as one group {OTHER!r}")
    return groups


def _covariates(history: HistoryStore, prep: Prepared, models: Sequence[str], horizon: int,
                say: Progress) -> pl.DataFrame | None:
    """Future-known covariates for the models that read them, when the store has signals."""
    if not COVARIATE_MODELS & set(models):
        return None
    signals = load_signals(history)
    if signals.empty():
        return None
    say("building covariates from " + ", ".join(signals.describe()))
    cov = covariates(prep.df["unique_id"].unique().to_list(), cast(date, prep.df["ds"].min()),
                     prep.end + timedelta(days=horizon), signals)
    if cov is not None:
        used = [c for c in cov.columns if c not in ("unique_id", "ds")]
        prep.notes.append(f"covariates for {', '.join(sorted(COVARIATE_MODELS & set(models)))}"
                          f": {', '.join(used)} (from {', '.join(signals.describe())})")
    return cov


def _record(prep: Prepared, horizon: int, models: list[str], n_windows: int,
            choice: pl.DataFrame) -> ForecastRun:
    fp = fingerprint(prep.df)
    now = datetime.now(UTC)
    chosen = dict(choice.group_by("model").len().iter_rows())
    # a model that did not run (or had no series long enough to backtest) gets no score
    cv = {m: float(cast(float, v)) for m in models if f"mse_{m}" in choice.columns
          and (v := choice[f"mse_{m}"].drop_nulls().drop_nans().mean()) is not None}
    finite = choice["cv_mse"].filter(choice["cv_mse"].is_finite())
    chosen_mse = float(cast(float | None, finite.mean()) or 0.0)
    # two runs in one second on the same data must not share an id (the registry keys on it)
    run_id = f"{now:%Y%m%dT%H%M%S}-{fp[:6]}-{secrets.token_hex(2)}"
    return ForecastRun(run_id, now.isoformat(), horizon, models,
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


def _register(history: HistoryStore, run: ForecastRun, result: Forecasts, promote: bool
              ) -> None:
    """Keep the run's artefacts; serve it (the new champion) unless it is a challenger."""
    note = registry.save_artefacts(history, run.run_id, {
        "forecasts": result.forecasts, "series": result.choice, "cv": result.cv},
        result.fitted)
    if note:
        run.notes.append(note)
    if not promote:
        run.notes.append(f"challenger: stored as run {run.run_id}, not served; "
                         f"`stockpilot forecast promote {run.run_id}` after new days arrive")
    folder = history.root / "runs"
    (folder / f"{run.run_id}.json").write_text(json.dumps(asdict(run), indent=2))
    if promote:
        registry.promote(history, run.run_id, force=True)
