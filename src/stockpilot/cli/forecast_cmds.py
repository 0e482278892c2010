"""``stockpilot forecast``: quantile forecasts for every SKU-location in the history store."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import WorkspaceOpt, console, spinner, workspace

forecast_app = typer.Typer(
    help="Forecast every series (no sub-command), or manage the runs: runs, promote, rollback.",
    invoke_without_command=True)


@forecast_app.callback()
def forecast(ctx: typer.Context,
             horizon: int = typer.Option(28, min=1, max=365,
                                         help="Periods to forecast (days, or see --freq)."),
             freq: str = typer.Option("D", help="D daily (what planning reads), W weekly or M "
                                      "monthly (statistical models; monthly uses stored "
                                      "monthly totals when the workspace has them, e.g. M5)."),
             models: str = typer.Option("SeasonalNaive,CrostonOptimized,TSB,AutoETS",
                                        help="Comma-separated candidates: statsforecast "
                                        "model names and/or the global models LightGBM, "
                                        "LightGBMDirect, their per-location and "
                                        "per-department variants LightGBM-store, "
                                        "LightGBMDirect-store, LightGBM-dept, "
                                        "LightGBMDirect-dept (all six read the imported "
                                        "events, promotions and prices), Ensemble (the mean "
                                        "of two or more of those six), and with the deep "
                                        "extra NF-LSTM, GRU, NHITS, TFT (neuralforecast), "
                                        "LSTM, Transformer."),
             windows: int = typer.Option(3, min=1, max=12, help="Rolling-origin windows."),
             winsorise: bool = typer.Option(False, help="Pull flagged outliers in before "
                                            "fitting (they are always flagged)."),
             retrain_if_drift: float | None = typer.Option(
                 None, help="Refit only if the last run's error on new days exceeds this "
                 "multiple of its backtest error (e.g. 1.5)."),
             engine: str = typer.Option("local", help="local; spark: statistical candidates "
                                        "on Spark (the spark extra); dask: LightGBM trained on "
                                        "a Dask cluster (the dask extra; "
                                        "STOCKPILOT_DASK_SCHEDULER, else a local one)."),
             choice: str = typer.Option("class", help="class: one model per demand class by "
                                        "volume-weighted backtest RMSSE; series: each series' "
                                        "own best backtest MSE."),
             censor_zero_runs: bool = typer.Option(
                 False, help="Treat zero runs implausible for the item (inside steady "
                 "selling) as stockouts: for imported histories without stock data, e.g. M5."),
             challenger: bool = typer.Option(
                 False, help="Store the run as a challenger, not served, to be promoted once "
                 "it beats the champion on new days (stockpilot forecast promote RUN)."),
             tune_trials: int | None = typer.Option(
                 None, min=1, help="First search LightGBM's parameters with optuna on its own "
                 "backtest: this many trials (the LightGBM models then use the best)."),
             tune_seconds: float | None = typer.Option(
                 None, min=1, help="…or for at most this many seconds (with or without "
                 "--tune-trials)."),
             ws: Path | None = WorkspaceOpt) -> None:
    """Cross-validate candidates, choose per demand class (or series), write quantile forecasts."""
    if ctx.invoked_subcommand is not None:
        return
    from stockpilot.errors import StockpilotError
    from stockpilot.forecast.pipeline import run_forecast
    from stockpilot.forecast.selection import (
        GLOBAL_MODELS,
        LGBM_FAMILY,
        check_models,
        groupings,
    )
    from stockpilot.forecast.stats import build_model

    if engine not in ("local", "spark", "dask"):
        raise typer.BadParameter(f"--engine {engine!r}: local, spark or dask")
    if freq.upper() not in ("D", "W", "M"):
        raise typer.BadParameter(f"--freq {freq!r}: D, W or M")
    if choice not in ("class", "series"):
        raise typer.BadParameter(f"--choice {choice!r}: class or series")
    names = [m.strip() for m in models.split(",") if m.strip()]
    for name in names:
        if name not in GLOBAL_MODELS:
            build_model(name)  # unknown names fail here, before any work
    try:
        check_models(names)
    except StockpilotError as exc:
        raise typer.BadParameter(str(exc), param_hint="--models") from exc
    if (tune_trials or tune_seconds) and not set(names) & set(LGBM_FAMILY):
        raise typer.BadParameter("tuning searches LightGBM's parameters: add LightGBM (or "
                                 "another LightGBM model) to --models", param_hint="--tune-trials")
    if (tune_trials or tune_seconds) and engine != "local":
        raise typer.BadParameter(f"tuning runs on the local engine only, not {engine!r}",
                                 param_hint="--engine")
    w = workspace(ws)
    if "dept" in groupings(names):
        from stockpilot.ingest.signals import copy_catalogue

        copy_catalogue(w.history, w.engine)  # the -dept models group by catalogue category
    with spinner("forecasting") as progress:
        task = progress.tasks[0].id
        run = run_forecast(w.history, horizon=horizon, models=names, n_windows=windows,
                           winsorise=winsorise, retrain_if_drift=retrain_if_drift,
                           engine=engine, choice=choice, censor_zero_runs=censor_zero_runs,
                           freq=freq.upper(), promote=not challenger,
                           tune_trials=tune_trials, tune_seconds=tune_seconds,
                           progress=lambda m: progress.update(task, description=m))
    if not run.refit:
        console.print(run.notes[0])
        return
    table = Table("model", "series chosen", "mean CV MSE", title=f"forecast run {run.run_id}")
    for name in names:
        mse = run.cv_mse.get(name)  # absent: the model did not run or had no backtest
        table.add_row(name, str(run.chosen.get(name, 0)), "—" if mse is None else f"{mse:.2f}")
    console.print(table)
    for note in run.notes:
        console.print(f"note: {note}")
    part = "latest" + {"D": "", "W": "_weekly", "M": "_monthly"}[freq.upper()]
    unit = {"D": "days", "W": "weeks", "M": "months"}[freq.upper()]
    console.print(f"{run.series} series × {horizon} {unit} to "
                  f"{w.history.path('forecasts', part)}")




benchmark_app = typer.Typer(help="Reproducible benchmarks on public data.", no_args_is_help=True)


@benchmark_app.command("m5")
def benchmark_m5(data: Path = typer.Option(..., help="Folder laid out like shared/data/m5."),
                 train_end: str = typer.Option(..., help="Last training day, e.g. d_1885."),
                 horizon: int = typer.Option(28, min=1, max=112),
                 out: Path = typer.Option(Path("m5-out"), help="Folder for the two CSVs."),
                 models: str = typer.Option(",".join(
                     ("SeasonalNaive", "CrostonOptimized", "TSB", "WindowAverage28",
                      "LightGBM")), help="Comma-separated candidates.")) -> None:
    """Fit on days up to --train-end; write forecast.csv and quantiles.csv; score if possible."""
    from stockpilot.forecast.m5_benchmark import run

    names = [m.strip() for m in models.split(",") if m.strip()]
    with spinner("M5 benchmark") as progress:
        task = progress.tasks[0].id
        scores = run(data, train_end, horizon, out, names,
                     progress=lambda m: progress.update(task, description=m))
    console.print(f"wrote {out / 'forecast.csv'} and {out / 'quantiles.csv'}")
    if scores is None:
        console.print("the data does not hold the days after --train-end: not scored")
        return
    for key in ("wrmsse", "wspl"):
        levels = ", ".join(f"{k.split('_', 1)[1]} {v:.3f}" for k, v in scores.items()
                           if k.startswith(f"{key}_") and not k.endswith("_bottom_up"))
        console.print(f"{key.upper()} {scores[key]:.3f} ({levels})")
    if "wspl_bottom_up" in scores:
        console.print(f"WSPL with summed item quantiles (bottom-up) {scores['wspl_bottom_up']:.3f}")


@forecast_app.command("runs")
def runs(ws: Path | None = WorkspaceOpt) -> None:
    """List the forecast runs: champion, challengers, retired champions."""
    from stockpilot.forecast.registry import list_runs

    table = Table("run", "status", "created", "history to", "freq", "models chosen",
                  "CV MSE (chosen)", title="forecast runs")
    for r in list_runs(workspace(ws).history):
        chosen = ", ".join(f"{m} {n}" for m, n in sorted(r.get("chosen", {}).items()))
        mse = r.get("cv_mse_chosen")
        table.add_row(r["run_id"], r["status"], r["created_at"][:19], r["end"],
                      r.get("freq", "D"), chosen, "—" if not mse else f"{mse:.3f}")
    console.print(table)


@forecast_app.command("promote")
def promote(run_id: str = typer.Argument(..., help="The run to serve (see `forecast runs`)."),
            force: bool = typer.Option(False, help="Promote without the new-days check."),
            ws: Path | None = WorkspaceOpt) -> None:
    """Serve a run if it did no worse than the champion on the same new days."""
    from stockpilot.forecast.registry import promote as promote_run

    result = promote_run(workspace(ws).history, run_id, force)
    if result is not None:
        console.print(f"on {result.days} new days ({result.pairs} series-days): MSE "
                      f"{result.challenger_mse:.3f} vs champion {result.champion:s} "
                      f"{result.champion_mse:.3f}")
    console.print(f"[green]promoted[/] {run_id}: its forecasts are served")


@forecast_app.command("rollback")
def rollback(ws: Path | None = WorkspaceOpt) -> None:
    """Serve the previous champion again."""
    from stockpilot.forecast.registry import rollback as roll_back

    console.print(f"rolled back: {roll_back(workspace(ws).history)} is the champion again")


def register(app: typer.Typer) -> None:
    """Add ``forecast`` and ``benchmark`` to the top-level app."""
    app.add_typer(forecast_app, name="forecast")
    app.add_typer(benchmark_app, name="benchmark")
