"""``stockpilot simulate``: replay the workspace's history under each policy, side by side."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import typer
from rich.table import Table

from stockpilot.cli.common import WorkspaceOpt, console, spinner, workspace
from stockpilot.errors import StockpilotError
from stockpilot.store.uow import writing
from stockpilot.usecases import simulations
from stockpilot.usecases.actor import SYSTEM


def _day(text: str, history) -> date:  # type: ignore[no-untyped-def]
    """A date ``YYYY-MM-DD`` or an M5 day ``d_N`` (through the imported M5 calendar)."""
    if text.startswith("d_"):
        if "m5" not in history.parts("calendar"):
            raise StockpilotError(f"{text}: M5 day numbers need an imported M5 calendar")
        cal = history.read("calendar", "m5")
        hit = cal.filter(pl.col("d") == int(text[2:]))
        if hit.is_empty():
            raise StockpilotError(f"{text} is not in the M5 calendar")
        day = hit["date"][0]
        if not isinstance(day, date):
            raise StockpilotError(f"{text}: the M5 calendar has no date for it")
        return day
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise StockpilotError(f"{text!r}: give a day as YYYY-MM-DD or d_N") from exc


def simulate(start: str = typer.Option(..., help="First simulated day (YYYY-MM-DD or d_N)."),
             end: str = typer.Option(..., help="Last simulated day."),
             lead_time: int = typer.Option(7, min=1, max=120),
             review: int = typer.Option(7, min=1, max=90),
             service_level: float = typer.Option(0.95, min=0.5, max=0.995,
                                                 help="Target kept in the trace."),
             json_out: Path | None = typer.Option(None, "--json", help="KPI table as JSON."),
             csv_out: Path | None = typer.Option(None, "--csv", help="KPI table as CSV."),
             trace: Path | None = typer.Option(None, help="Per SKU-day trace (CSV/Parquet)."),
             chart: Path | None = typer.Option(None, help="Inventory vs fill rate (PNG)."),
             calibration_weeks: int = typer.Option(
                 26, min=0, max=104,
                 help="Weekly reviews before --start that learn target → quantile level "
                      "(0: off; fewer when the history is short)."),
             ws: Path | None = WorkspaceOpt) -> None:
    """Compare ERP min/max, normal theory, ours and the oracle on the imported history."""
    from stockpilot.forecast.data import to_long
    from stockpilot.simulate.engine import Setup
    from stockpilot.simulate.run import SERVICE_SWEEP, compare, inventory_at_fill, trace_frame

    w = workspace(ws)
    first, last = _day(start, w.history), _day(end, w.history)
    if last <= first:
        raise StockpilotError(f"--end {end} must come after --start {start}")
    df = to_long(w.history.daily(end=last)).with_columns(pl.col("y").clip(lower_bound=0))
    levels = sorted({*SERVICE_SWEEP, service_level})
    from stockpilot.store.uow import reading
    from stockpilot.usecases.overrides import planned_overrides

    with reading(w.engine) as uow:  # replayed as planned
        overrides = planned_overrides(uow, df["unique_id"].unique())
    with spinner("simulating") as progress:
        task = progress.tasks[0].id
        cmp = compare(df, first, last, Setup(lead_time, review), service_levels=levels,
                      keep=service_level, calibration_weeks=calibration_weeks,
                      progress=lambda m: progress.update(task, description=m),
                      overrides=overrides if overrides.height else None)
    table = Table("policy", "knob", "fill rate", "CSL", "avg on hand/SKU", "lost units",
                  "orders", title=f"simulation {first} … {last}, L={lead_time}, R={review}")
    for r in cmp.rows:
        table.add_row(str(r["policy"]), f"{r['knob']:.2f}", f"{r['fill_rate']:.3f}",
                      f"{r['cycle_service_level']:.3f}", f"{r['avg_on_hand_per_sku']:.1f}",
                      f"{r['lost_units']:,.0f}", f"{r['orders_placed']:,.0f}")
    console.print(table)
    params = {"start": first.isoformat(), "end": last.isoformat(), "lead_time_days": lead_time,
              "review_days": review, "service_level": service_level,
              "calibration_weeks": calibration_weeks}
    with writing(w.engine) as uow:  # stored one way, as the API does; the dashboard shows it
        run_id = simulations.store(uow, SYSTEM, "cli", params, cmp.rows)
    console.print(f"stored as simulation {run_id}")
    csl = {str(r["policy"]): float(r["cycle_service_level"]) for r in cmp.rows  # type: ignore[arg-type]
           if r["knob"] == service_level and str(r["policy"]).startswith(("ours", "normal"))}
    console.print(f"achieved CSL at target {service_level:.0%}: "
                  + ", ".join(f"{p} {v:.3f}" for p, v in csl.items()))
    for fill in (0.95, 0.98):
        names = [p for p in ("ours", "ours (calibrated)", "normal", "erp_min_max")
                 if any(r["policy"] == p for r in cmp.rows)]
        got = {p: inventory_at_fill(cmp.rows, p, fill) for p in names}
        shown = ", ".join(f"{p} {v:.1f}" if v is not None else f"{p} n/a" for p, v in got.items())
        console.print(f"avg on hand per SKU at {fill:.0%} fill: {shown}")
    if json_out:
        json_out.write_text(json.dumps(cmp.rows, indent=2))
    if csv_out:
        pl.DataFrame(cmp.rows).write_csv(csv_out)
    if trace:
        frame = trace_frame(cmp)
        (frame.write_parquet if trace.suffix == ".parquet" else frame.write_csv)(trace)
    if chart:
        from stockpilot.simulate.chart import inventory_vs_fill

        inventory_vs_fill(cmp.rows, chart)
        console.print(f"chart: {chart}")


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the top-level app."""
    app.command()(simulate)
