"""The demo pipeline on the bundled sample: import, then each later stage that is installed.

The sample (``data/sample``) is real UCI Online Retail data for 300 StockCodes plus invented
supplier terms and a stock snapshot. The stock is counted at the end of the sample's history
(2011-09-30), so positions, forecasts and plans are "as of" that day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from stockpilot.ingest import files
from stockpilot.ingest.online_retail_import import import_online_retail
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import reading, writing
from stockpilot.usecases import recommendations, simulations
from stockpilot.usecases.actor import SYSTEM

if TYPE_CHECKING:
    from sqlalchemy import Engine

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample"
AS_OF = datetime(2011, 9, 30, 23, 59, tzinfo=UTC)


@dataclass(frozen=True)
class StepResult:
    """One line of the demo's summary."""

    step: str
    summary: str


def sample_dir() -> Path:
    """The bundled sample folder (in a source checkout)."""
    if not (SAMPLE / "online_retail_top300.csv.gz").exists():
        from stockpilot.errors import ConfigError

        raise ConfigError(f"the bundled sample is missing at {SAMPLE}; run from a checkout")
    return SAMPLE


def import_sample(engine: Engine, history: HistoryStore) -> list[StepResult]:
    """Import the sample's invoices, suppliers, supplier terms and stock snapshot."""
    folder = sample_dir()
    r = import_online_retail(engine, folder / "online_retail_top300.csv.gz", history)
    out = [StepResult("import invoices", f"{r.skus} SKUs, {r.customers:,} customers, "
                      f"{r.product_lines:,} order lines, {r.daily_rows:,} SKU-days of demand")]
    for kind, name in (("suppliers", "suppliers.csv"), ("supplier_items", "supplier_items.csv")):
        rep = files.import_catalogue(engine, kind, folder / name)
        out.append(StepResult(f"import {kind}", f"{rep.rows} rows"))
    rep = files.import_stock(engine, folder / "stock.csv", counted_at=AS_OF)
    out.append(StepResult("import stock", f"{rep.rows} counts as of {AS_OF.date()}"))
    return out



DEMO_MODELS = ("SeasonalNaive", "CrostonOptimized", "TSB", "WindowAverage28")


def forecast_plan_simulate(engine: Engine, history: HistoryStore, report_dir: Path,
                           say: Callable[[str], None] | None = None) -> list[StepResult]:
    """Forecast, plan, replay the last 8 weeks, train the recommender, write the HTML report."""
    import polars as pl

    from stockpilot.forecast.data import prepare, to_long
    from stockpilot.forecast.pipeline import run_forecast
    from stockpilot.jobs.plan import run_plan
    from stockpilot.ledger.positions import get_positions
    from stockpilot.reports.html import write_report
    from stockpilot.simulate.engine import Setup
    from stockpilot.simulate.run import compare, inventory_at_fill

    say = say or (lambda _m: None)
    run = run_forecast(history, horizon=28, models=DEMO_MODELS, progress=say)
    out = [StepResult("forecast", f"{run.series} series × 28 days, 9 quantiles; chosen "
                      + ", ".join(f"{m} {n}" for m, n in sorted(run.chosen.items())))]
    say("planning")
    plan = run_plan(engine, history)
    due = plan.filter(pl.col("order_qty") > 0)
    out.append(StepResult("plan", f"{due.height} orders due, value "
                          f"{due['order_value'].sum():,.0f}; each with its reason"))
    say("simulating the last 8 weeks")
    df = to_long(history.daily()).with_columns(pl.col("y").clip(lower_bound=0))
    end = AS_OF.date()
    cmp = compare(df, end - timedelta(days=55), end, Setup(7, 7), progress=say)
    ours, erp = (inventory_at_fill(cmp.rows, p, 0.9) for p in ("ours", "erp_min_max"))
    if ours is not None and erp is not None:
        sim = f"at 90% fill: ours {ours:.0f} units/SKU vs ERP min/max {erp:.0f}"
    else:
        sim = "curves do not both reach 90% fill on this window"
    out.append(StepResult("simulate", sim))
    with writing(engine) as uow:  # the dashboard's chart
        simulations.store(uow, SYSTEM, "demo", {"start": (end - timedelta(days=55)).isoformat(),
                                                "end": end.isoformat(), "lead_time_days": 7,
                                                "review_days": 7}, cmp.rows)
    say("training the recommender")
    out.append(StepResult("recommend", train_recommender(engine, history.root.parent)))
    from stockpilot.alerts.service import findings, raise_alerts

    found = findings(engine, history, today=end)
    raise_alerts(engine, found)
    by_rule: dict[str, int] = {}
    for f in found:
        by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
    out.append(StepResult("alerts", ", ".join(f"{k} {v}" for k, v in sorted(by_rule.items()))
                          or "none"))
    with reading(engine) as uow:
        positions = pl.DataFrame([p.to_dict() for p in get_positions(uow.conn)])
    hist = prepare(to_long(history.daily())).df
    page = write_report(
        report_dir, title=f"stockpilot demo — as of {end}",
        kpis={"SKUs": str(positions.height), "orders due": str(due.height),
              "order value": f"{due['order_value'].sum():,.0f}",
              "stock units": f"{positions['on_hand'].sum():,}"},
        positions=positions, plan=plan, history=hist,
        forecast=history.read("forecasts", "latest"), sim_rows=cmp.rows, notes=run.notes)
    from stockpilot.reports.build import write_report as write_workspace_report

    full = write_workspace_report(engine, history, report_dir / "report.html", as_of=end)
    out.append(StepResult("report", f"{page} and {full.name} (stockpilot report)"))
    return out


DEMO_USER = "demo"


def train_recommender(engine: Engine, workspace: Path) -> str:
    """Fit the recommender on the imported order lines (before the day after the sample)."""
    from stockpilot.recommend.service import train

    with reading(engine) as uow:
        lines = recommendations.order_lines(uow, SYSTEM)
    cutoff = datetime(AS_OF.year, AS_OF.month, AS_OF.day) + timedelta(days=1)
    trained = train(lines, cutoff, workspace / "models" / "recommend")
    return f"{len(trained.users):,} customers × {len(trained.items):,} items"


def demo_user(engine: Engine, password: str | None = None) -> tuple[str, str]:
    """Create (or reset) the demo's planner sign-in; returns (user name, password)."""
    import secrets

    from stockpilot.usecases import users

    password = password or secrets.token_urlsafe(9)
    try:
        with writing(engine) as uow:
            users.create_user(uow, SYSTEM, DEMO_USER, password, "planner")
    except users.InvalidUser:
        with writing(engine) as uow:
            users.set_password(uow, SYSTEM, DEMO_USER, password)
    return DEMO_USER, password
