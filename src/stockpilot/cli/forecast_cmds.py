"""``stockpilot forecast``: quantile forecasts for every SKU-location in the history store."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import WorkspaceOpt, console, spinner, workspace


def forecast(horizon: int = typer.Option(28, min=1, max=365, help="Days to forecast."),
             models: str = typer.Option("SeasonalNaive,CrostonOptimized,TSB,AutoETS",
                                        help="Comma-separated candidates: statsforecast "
                                        "model names and/or LightGBM."),
             windows: int = typer.Option(3, min=1, max=12, help="Rolling-origin windows."),
             ws: Path | None = WorkspaceOpt) -> None:
    """Cross-validate candidates, choose one per series, write calibrated quantile forecasts."""
    from stockpilot.forecast.pipeline import run_forecast
    from stockpilot.forecast.stats import build_model

    names = [m.strip() for m in models.split(",") if m.strip()]
    for name in names:
        if name != "LightGBM":
            build_model(name)  # unknown names fail here, before any work
    w = workspace(ws)
    with spinner("forecasting") as progress:
        task = progress.tasks[0].id
        run = run_forecast(w.history, horizon=horizon, models=names, n_windows=windows,
                           progress=lambda m: progress.update(task, description=m))
    table = Table("model", "series chosen", "mean CV MSE", title=f"forecast run {run.run_id}")
    for name in names:
        table.add_row(name, str(run.chosen.get(name, 0)), f"{run.cv_mse.get(name, 0):.2f}")
    console.print(table)
    for note in run.notes:
        console.print(f"note: {note}")
    console.print(f"{run.series} series × {horizon} days to "
                  f"{w.history.path('forecasts', 'latest')}")


def register(app: typer.Typer) -> None:
    """Add ``forecast`` to the top-level app."""
    app.command()(forecast)
