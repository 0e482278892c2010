"""The workspace report's data: every section read and limited to the caller's locations.

One read of the ledger (positions, movements of the reported weeks, lots, counts, arrivals)
and of the history store (daily demand, stockout days, the latest plan and forecast, the
forecast runs); the tables are computed by :mod:`stockpilot.usecases.report_sections`.
A location-limited actor gets a report of its own locations only (generated per scope: no
row, total or chart counts another location).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

import polars as pl
from sqlalchemy import Select, select

from stockpilot.alerts.inputs import arrivals
from stockpilot.alerts.projection import first_stockouts, project
from stockpilot.domain.movements import MovementKind
from stockpilot.errors import NotFound
from stockpilot.store import schema as t
from stockpilot.store.artifacts import ArtifactStore
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import report_sections as sec
from stockpilot.usecases import stock
from stockpilot.usecases.actor import Actor
from stockpilot.usecases.planning import narrow

EXPIRY_WINDOW_DAYS = 60
RUNS_TRIED = 3  # newest forecast runs searched for days whose actuals have arrived


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, as tables (renderers only format them)."""

    as_of: date
    scope: list[str] | None
    kpis: pl.DataFrame
    value_by_class: pl.DataFrame
    flow: pl.DataFrame
    stockouts: pl.DataFrame
    excess: pl.DataFrame
    slow: pl.DataFrame
    expiring: pl.DataFrame
    accuracy: pl.DataFrame
    accuracy_source: str
    counts: pl.DataFrame
    suggestions: pl.DataFrame
    notes: list[str] = field(default_factory=list)

    def sections(self) -> dict[str, pl.DataFrame]:
        """The tables by title, in the report's order."""
        return {"KPIs by week": self.kpis, "Stock value by ABC class": self.value_by_class,
                "Stock flow by week (units)": self.flow,
                "Projected stockouts": self.stockouts, "Excess stock": self.excess,
                "Slow movers": self.slow, "Expiring lots and expected waste": self.expiring,
                "Forecast accuracy by class": self.accuracy,
                "Count discrepancies": self.counts,
                "Purchase suggestions": self.suggestions}


def _in_scope(q: Select[Any], col: Any, actor: Actor) -> Select[Any]:
    return q if actor.locations is None else q.where(col.in_(actor.scope() or []))


def _positions(uow: UnitOfWork, actor: Actor) -> pl.DataFrame:
    costs = stock.unit_costs(uow, actor)
    rows = [{"sku": p.sku, "location": p.location, "on_hand": p.on_hand,
             "available": p.available, "on_order": p.on_order,
             "unit_cost": costs.get(p.sku) or 0.0} for p in stock.positions(uow, actor)]
    return pl.DataFrame(rows, schema={"sku": pl.Utf8, "location": pl.Utf8, "on_hand": pl.Int64,
                                      "available": pl.Int64, "on_order": pl.Int64,
                                      "unit_cost": pl.Float64})


def _moves(uow: UnitOfWork, actor: Actor, since: date) -> pl.DataFrame:
    m = t.movements.c
    q = select(m.sku, m.location, m.occurred_at, m.kind, m.on_hand_delta).where(
        m.occurred_at >= datetime.combine(since, time(), UTC), m.on_hand_delta != 0)
    rows = [(r.sku, r.location, r.occurred_at.date(), r.kind, r.on_hand_delta)
            for r in uow.conn.execute(_in_scope(q, m.location, actor))]
    return pl.DataFrame(rows, schema=sec.MOVES_SCHEMA, orient="row")


def _counts(uow: UnitOfWork, actor: Actor, since: date, costs: dict[str, float]
            ) -> pl.DataFrame:
    """Count events whose counted quantity differed from the book (stock imports excluded)."""
    m = t.movements.c
    q = select(m.occurred_at, m.sku, m.location, m.lot_code, m.variance, m.reference).where(
        m.kind == int(MovementKind.COUNT), m.variance != 0, ~m.event_id.like("import:%"),
        m.occurred_at >= datetime.combine(since, time(), UTC)).order_by(m.occurred_at.desc())
    rows = [{"counted_at": r.occurred_at.replace(tzinfo=None), "sku": r.sku,
             "location": r.location, "lot_code": r.lot_code, "variance": r.variance,
             "variance_value": round(r.variance * costs.get(r.sku, 0.0), 2),
             "reference": r.reference} for r in uow.conn.execute(_in_scope(q, m.location, actor))]
    return pl.DataFrame(rows, schema={"counted_at": pl.Datetime, "sku": pl.Utf8,
                                      "location": pl.Utf8, "lot_code": pl.Utf8,
                                      "variance": pl.Int64, "variance_value": pl.Float64,
                                      "reference": pl.Utf8})


def _lots(uow: UnitOfWork, actor: Actor, as_of: date) -> pl.DataFrame:
    c = t.lots.c
    q = select(c.sku, c.location, c.lot_code, c.expiry, c.on_hand).where(
        c.on_hand > 0, c.expiry.is_not(None),
        c.expiry <= as_of + timedelta(days=EXPIRY_WINDOW_DAYS))
    return pl.DataFrame(uow.conn.execute(_in_scope(q, c.location, actor)).all(),
                        schema={"sku": pl.Utf8, "location": pl.Utf8, "lot_code": pl.Utf8,
                                "expiry": pl.Date, "on_hand": pl.Int64}, orient="row")


def _daily(history: HistoryStore, actor: Actor, start: date) -> pl.DataFrame:
    """Daily ``sku, location, date, units`` from ``start`` (all sources summed)."""
    return history.daily(locations=actor.scope(), start=start)


def _sales(daily: pl.DataFrame, history: HistoryStore, costs: pl.DataFrame) -> pl.DataFrame:
    """``day, units, demand, cogs``: sales, censored days raised to demand, valued at cost."""
    from stockpilot.forecast.censoring import impute_censored

    d = daily.select((pl.col("sku") + "@" + pl.col("location")).alias("unique_id"), "sku",
                     pl.col("date").alias("ds"), pl.col("units").cast(pl.Float64).alias("y"))
    censored = history.scan("stockouts")
    demand = d.select("unique_id", "ds", "y")
    if censored is not None:
        c = censored.collect().select((pl.col("sku") + "@" + pl.col("location"))
                                      .alias("unique_id"), pl.col("date").alias("ds"))
        demand = impute_censored(demand, c)
    both = d.join(demand.rename({"y": "demand"}), on=["unique_id", "ds"], how="left") \
        .join(costs, on="sku", how="left")
    return both.group_by(pl.col("ds").alias("day")).agg(
        pl.col("y").sum().alias("units"), pl.col("demand").fill_null(pl.col("y")).sum(),
        (pl.col("y") * pl.col("unit_cost").fill_null(0.0)).sum().alias("cogs")).sort("day")


def _plan_forecast(store: ArtifactStore, actor: Actor
                   ) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    plan: pl.DataFrame | None = None
    fc: pl.DataFrame | None = None
    with contextlib.suppress(NotFound):
        plan = narrow(store.plan().frame, actor)
    with contextlib.suppress(NotFound):
        fc = narrow(store.forecast(), actor)
    return plan, fc


def _stockouts(pos: pl.DataFrame, fc: pl.DataFrame | None, coming: pl.DataFrame
               ) -> pl.DataFrame:
    """Series whose projected stock (the alerts' projection) goes below zero, with the date."""
    empty = pl.DataFrame(schema={"sku": pl.Utf8, "location": pl.Utf8, "available": pl.Int64,
                                 "stockout_date": pl.Date, "days_left": pl.Int64})
    if fc is None or fc.is_empty() or pos.is_empty():
        return empty
    daily = fc.select("unique_id", "ds", "mean")
    start = pos.select((pl.col("sku") + "@" + pl.col("location")).alias("unique_id"), "sku",
                       "location", pl.col("available").clip(lower_bound=0))
    first: date = daily["ds"].min()  # type: ignore[assignment]
    # arrivals keep their distance from today on the forecast's calendar (as the dashboard)
    coming = coming.with_columns(pl.col("expected_at") + (first - datetime.now(UTC).date()))
    proj = project(start.select("unique_id", "available"), daily, coming, first,
                   daily["ds"].n_unique())
    out = first_stockouts(proj).join(start, on="unique_id")
    return out.select("sku", "location", "available", pl.col("stockout_ds").alias(
        "stockout_date"), (pl.col("stockout_day") - 1).cast(pl.Int64).alias("days_left")
    ).sort("stockout_date", "sku")


def _use_by(lots: pl.DataFrame, fc: pl.DataFrame | None) -> dict[tuple[str, str, date], float]:
    """Forecast demand of each lot's series from the forecast's first day through its expiry."""
    if fc is None or lots.is_empty():
        return {}
    keys = lots.select("sku", "location", "expiry").unique()
    df = keys.join(fc.select("sku", "location", "ds", "mean"), on=["sku", "location"]) \
        .filter(pl.col("ds") <= pl.col("expiry")).group_by("sku", "location", "expiry") \
        .agg(pl.col("mean").sum())
    return {(r[0], r[1], r[2]): float(r[3]) for r in df.iter_rows()}


def _accuracy(history: HistoryStore, plan: pl.DataFrame | None, actor: Actor
              ) -> tuple[pl.DataFrame, str]:
    """Accuracy of the newest forecast run whose days have actuals; else its backtest."""
    from stockpilot.forecast.registry import list_runs

    classes = (plan.select("unique_id", pl.col("klass").str.slice(0, 1).alias("abc"))
               if plan is not None and "klass" in plan.columns
               else pl.DataFrame(schema={"unique_id": pl.Utf8, "abc": pl.Utf8}))
    runs = [r for r in list_runs(history) if r.get("freq", "D") == "D"][::-1][:RUNS_TRIED]
    for run in runs:
        path = history.root / "runs" / str(run["run_id"]) / "forecasts.parquet"
        if not path.exists():
            continue
        fc = _in_scope_uid(pl.read_parquet(path, columns=["unique_id", "ds", "mean"]), actor)
        if fc.is_empty():
            continue
        lo, hi = cast(date, fc["ds"].min()), cast(date, fc["ds"].max())
        actual = _daily(history, actor, lo).filter(pl.col("date") <= hi).select(
            (pl.col("sku") + "@" + pl.col("location")).alias("unique_id"),
            pl.col("date").alias("ds"), pl.col("units").cast(pl.Float64).alias("y"))
        if actual.is_empty():
            continue
        # days up to the newest actual; a series without a row that day sold nothing
        last = cast(date, actual["ds"].max())
        pairs = fc.filter(pl.col("ds") <= last).join(
            actual, on=["unique_id", "ds"], how="left").with_columns(pl.col("y").fill_null(0.0))
        return (sec.accuracy_by_class(pairs, classes),
                f"forecast run {run['run_id']} against the actuals of {lo} … {last}")
    return _backtest(history, classes, actor)


def _in_scope_uid(df: pl.DataFrame, actor: Actor) -> pl.DataFrame:
    """Rows whose ``unique_id`` (``sku@location``) is at the actor's locations."""
    if actor.locations is None:
        return df
    return df.filter(pl.col("unique_id").str.split("@").list.last().is_in(actor.scope() or []))


def _backtest(history: HistoryStore, classes: pl.DataFrame, actor: Actor
              ) -> tuple[pl.DataFrame, str]:
    if "cv" not in history.parts("forecasts"):
        return sec.accuracy_by_class(pl.DataFrame(schema={
            "unique_id": pl.Utf8, "ds": pl.Date, "y": pl.Float64, "mean": pl.Float64}),
            classes), "no forecast yet"
    cv = _in_scope_uid(history.read("forecasts", "cv"), actor)
    cutoff = cast(date, cv["cutoff"].max())
    cv = cv.filter(pl.col("cutoff") == cutoff)
    return (sec.accuracy_by_class(cv.select("unique_id", "ds", "y", "mean"), classes),
            "no actuals yet for the latest run's days: its last backtest window "
            f"(cutoff {cutoff})")


def gather(uow: UnitOfWork, history: HistoryStore, actor: Actor, *,
           as_of: date | None = None) -> ReportData:
    """Read and compute every section of the report for ``actor``'s locations.

    Args:
        uow: an open (reading) unit of work on the workspace's database.
        history: the workspace's history store (daily demand, plans, forecasts, runs).
        actor: who the report is for; a location-limited actor sees only its locations.
        as_of: the report's day (default: the data's newest day, ledger or history).
    """
    as_of = as_of or stock.data_as_of(uow, history)
    ends = sec.week_ends(as_of)
    since = ends[0] - timedelta(days=6)
    pos = _positions(uow, actor)
    costs = {r[0]: r[1] for r in pos.select("sku", "unit_cost").unique("sku").iter_rows()}
    moves, lots = _moves(uow, actor, since), _lots(uow, actor, as_of)
    counts = _counts(uow, actor, since, costs)
    coming = arrivals(uow.conn)
    plan, fc = _plan_forecast(ArtifactStore(history), actor)
    daily = _daily(history, actor, since - timedelta(days=63 + sec.TRAILING_DAYS))
    sales = _sales(daily, history, pos.select("sku", "unit_cost").unique("sku"))
    last_sale = history.daily(locations=actor.scope()).filter(pl.col("units") > 0) \
        .group_by("sku", "location").agg(pl.col("date").max().alias("last_sale"))
    accuracy, source = _accuracy(history, plan, actor)
    due = (plan.filter(pl.col("order_qty") > 0).sort("order_value", descending=True).select(
        "sku", "location", "supplier", "klass", "order_qty", "order_value", "reason")
        if plan is not None else pl.DataFrame())
    notes = [] if plan is not None else ["no plan yet: run `stockpilot plan` first"]
    notes += [] if fc is not None else ["no forecast yet: run `stockpilot forecast` first"]
    return ReportData(
        as_of=as_of, scope=actor.scope(), kpis=sec.kpi_trend(pos, moves, sales, ends),
        value_by_class=sec.value_by_class(pos, plan), flow=sec.stock_flow(moves, ends),
        stockouts=_stockouts(pos, fc, coming), excess=sec.excess(pos, plan),
        slow=sec.slow_movers(pos, last_sale, as_of),
        expiring=sec.expected_waste(lots, _use_by(lots, fc), costs),
        accuracy=accuracy, accuracy_source=source, counts=counts, suggestions=due, notes=notes)


def summary(data: ReportData) -> dict[str, Any]:
    """The headline numbers (the last week's KPIs and the section sizes), JSON-ready."""
    last = data.kpis.row(-1, named=True) if data.kpis.height else {}
    out: dict[str, Any] = json.loads(json.dumps({
        "as_of": data.as_of, "scope": data.scope,
        **{k: last.get(k) for k in ("fill_rate", "stock_value", "turns", "days_of_cover")},
        "projected_stockouts": data.stockouts.height, "suggestions": data.suggestions.height,
        "count_discrepancies": data.counts.height}, default=str))
    return out
