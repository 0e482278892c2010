"""The rows behind each worklist, as polars frames at the actor's locations.

One frame per list (SKUs, alerts, overstock and slow movers, expiring lots, suggestions), built
from the ledger (positions, lots, alerts, names, unit costs) and the latest plan and forecast;
the stock status of every SKU-location comes from :mod:`stockpilot.usecases.kpis`, so a list
filtered by a status has as many rows as the KPI card that links to it.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import func, select

from stockpilot.alerts import inputs
from stockpilot.errors import NotFound
from stockpilot.ledger.positions import positions_query
from stockpilot.store import schema as t
from stockpilot.store import schema_events as te
from stockpilot.store.artifacts import ArtifactStore
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import catalogue, kpis, stock
from stockpilot.usecases.actor import Actor

PLAN_KEEP = ("supplier", "klass", "reorder_point", "order_up_to", "order_qty", "order_value",
             "reason")
PLAN_SCHEMA: dict[str, Any] = {"unique_id": pl.Utf8, "supplier": pl.Utf8, "klass": pl.Utf8,
                               "lead_days": pl.Int64, "reorder_point": pl.Int64,
                               "order_up_to": pl.Int64, "order_qty": pl.Int64,
                               "order_value": pl.Float64, "reason": pl.Utf8}


URGENCY_ORDER = ("urgency", "cover_gap", "sku", "location")
MEMO_SIZE = 4  # stock tables kept (one per user scope in use); 300,000 rows ≈ 100 MB each
_memo: dict[tuple[Any, ...], pl.DataFrame] = {}
_lock = threading.Lock()


def _scoped(df: pl.DataFrame, actor: Actor) -> pl.DataFrame:
    return df if actor.locations is None else df.filter(
        pl.col("location").is_in(actor.scope() or []))


def _plan(artifacts: ArtifactStore) -> pl.DataFrame:
    def build() -> pl.DataFrame:
        plan = artifacts.plan().frame
        keep = [pl.col(c).cast(PLAN_SCHEMA[c]) if c in plan.columns
                else pl.lit(None, PLAN_SCHEMA[c]).alias(c) for c in PLAN_KEEP]
        return plan.join(kpis.lead_days(plan), on="unique_id", how="left").select(
            "unique_id", *keep, "lead_days")
    try:
        got = artifacts.cached("worklist:plan", "plans", "latest", build)
    except NotFound:
        got = None
    return got if got is not None else pl.DataFrame(schema=PLAN_SCHEMA)


def _forecast(artifacts: ArtifactStore) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The forecast (unique_id, ds, mean) and its mean per day, built once per forecast."""
    def build() -> tuple[pl.DataFrame, pl.DataFrame]:
        fc = artifacts.forecast().select("unique_id", "ds", "mean")
        return fc, kpis.forecast_per_day(fc)
    try:
        return artifacts.cached("worklist:forecast", "forecasts", "latest", build)
    except NotFound:
        return None


def _positions(uow: UnitOfWork, today: date) -> pl.DataFrame:
    # rows straight into a frame (not through Position objects: 10× faster at 300,000 rows)
    rows = uow.conn.execute(positions_query(today)).all()
    pos = pl.DataFrame([tuple(r) for r in rows], schema=inputs.POSITION_SCHEMA, orient="row")
    return inputs._with_transit(uow.conn, pos)


def _stamp(uow: UnitOfWork, artifacts: ArtifactStore) -> tuple[Any, ...]:
    """What the stock table depends on: the ledger, the plan and forecast files.

    The ledger by every stock row's version (each change bumps it) and the newest movement; a
    renamed SKU (no stock change) shows its new name once anything else changes.
    """
    s, m = t.stock.c, t.movements.c
    ledger = uow.conn.execute(select(func.count(), func.coalesce(func.sum(s.version), 0))
                              ).one()
    last = uow.conn.execute(select(func.max(m.id))).scalar()
    files = [*artifacts.cache.part_files("plans", "latest"),
             *artifacts.cache.part_files("forecasts", "latest")]
    return (*ledger, last, artifacts.cache._stamp(files))


def _items(uow: UnitOfWork, actor: Actor) -> pl.DataFrame:
    names = catalogue.sku_names(uow, actor)
    costs = stock.unit_costs(uow, actor)
    return pl.DataFrame({"sku": list(names), "name": list(names.values()),
                         "unit_cost": [costs.get(s) for s in names]},
                        schema={"sku": pl.Utf8, "name": pl.Utf8, "unit_cost": pl.Float64})


def stock_table(uow: UnitOfWork, artifacts: ArtifactStore, actor: Actor,
                today: date | None = None) -> pl.DataFrame:
    """Every SKU-location at the actor's locations with its plan, forecast and status.

    Kept in memory while nothing it depends on changes (see :func:`_stamp`): building it
    projects every series, which takes seconds at 300,000 series; a page only filters it.

    Columns: sku, name, location, supplier, klass, on_hand, reserved, available, on_order,
    in_transit, forecast_per_day, days_of_cover, lead_days, reorder_point, order_up_to,
    unit_cost, stock_value, excess_units, excess_value, status, the ``is_*`` flags, slow,
    urgency, cover_gap and the plan's order_qty, order_value and reason.
    """
    today = today or datetime.now(UTC).date()
    key = (str(uow.conn.engine.url), id(artifacts), actor.scope() and tuple(actor.scope() or []),
           today, _stamp(uow, artifacts))
    hit = _memo.get(key)
    if hit is not None:
        return hit
    df = _build(uow, artifacts, actor, today)
    with _lock:
        while len(_memo) >= MEMO_SIZE:
            _memo.pop(next(iter(_memo)))
        _memo[key] = df
    return df


def _build(uow: UnitOfWork, artifacts: ArtifactStore, actor: Actor, today: date
           ) -> pl.DataFrame:
    pos = _scoped(_positions(uow, today), actor)
    arrivals = inputs.arrivals(uow.conn)
    plan, got = _plan(artifacts), _forecast(artifacts)
    fc, per_day = got if got is not None else (None, pl.DataFrame(
        schema={"unique_id": pl.Utf8, "forecast_per_day": pl.Float64}))
    outs = kpis.projected_stockouts(pos, fc, plan, arrivals, today) if fc is not None \
        else pl.DataFrame(schema={"unique_id": pl.Utf8})
    df = (kpis.with_uid(pos).join(plan, on="unique_id", how="left")
          .join(per_day, on="unique_id", how="left")
          .join(_items(uow, actor), on="sku", how="left"))
    df = kpis.classify(df, outs)
    excess = (pl.col("position") - pl.col("order_up_to")).clip(lower_bound=0).fill_null(0)
    # kept in urgency order (URGENCY_ORDER): filters keep it, so the default sort is free
    return df.sort(list(URGENCY_ORDER), nulls_last=True).with_columns(
        (pl.col("on_hand") * pl.col("unit_cost")).alias("stock_value"),
        excess.alias("excess_units"),
        (excess * pl.col("unit_cost")).alias("excess_value"))


def overstock_table(stock_rows: pl.DataFrame) -> pl.DataFrame:
    """Overstock and slow movers: rows flagged ``is_overstock`` or ``slow``."""
    return stock_rows.filter(pl.col("is_overstock") | pl.col("slow"))


def suggestion_table(stock_rows: pl.DataFrame) -> pl.DataFrame:
    """The latest plan's due order lines (order_qty > 0) with the stock row beside them."""
    return stock_rows.filter(pl.col("order_qty").fill_null(0) > 0)


def alert_table(uow: UnitOfWork, actor: Actor, stock_rows: pl.DataFrame) -> pl.DataFrame:
    """Alerts at the actor's locations with the product's name, plan and status beside them.

    ``alert_status`` is the alert's (open, acked, resolved); ``stock_status`` the position's.
    """
    a = te.alerts.c
    rows = uow.conn.execute(select(a.id, a.rule, a.sku, a.location, a.severity, a.status,
                                   a.message, a.created_at, a.updated_at)).all()
    df = _scoped(pl.DataFrame(
        [tuple(r) for r in rows], orient="row",
        schema={"id": pl.Int64, "rule": pl.Utf8, "sku": pl.Utf8, "location": pl.Utf8,
                "severity": pl.Utf8, "alert_status": pl.Utf8, "message": pl.Utf8,
                "created_at": pl.Datetime, "updated_at": pl.Datetime}), actor)
    side = stock_rows.select("sku", "location", "name", "supplier", "klass", "available",
                             "days_of_cover", "lead_days", "cover_gap",
                             pl.col("status").alias("stock_status"),
                             pl.col("urgency").alias("stock_urgency"))
    sev = pl.col("severity").replace_strict({"critical": 0, "warning": 1}, default=2,
                                            return_dtype=pl.Int8)
    return df.join(side, on=["sku", "location"], how="left").with_columns(
        sev.alias("urgency"))


def expiring_table(uow: UnitOfWork, actor: Actor, stock_rows: pl.DataFrame,
                   today: date | None = None) -> pl.DataFrame:
    """Lots with stock, soonest expiry first: what the forecast sells before then, what not.

    ``at_risk_units`` = on hand − forecast per day × days left (oldest lots sell first is
    not modelled here: each lot is compared with the whole forecast, an upper bound on sales).
    """
    today = today or datetime.now(UTC).date()
    lots = _scoped(inputs.lots(uow.conn), actor).filter(pl.col("on_hand") > 0)
    side = stock_rows.select("sku", "location", "name", "supplier", "klass",
                             "forecast_per_day", "unit_cost")
    days_left = (pl.col("expiry") - pl.lit(today)).dt.total_days()
    sells = (pl.col("forecast_per_day").fill_null(0) * days_left.clip(lower_bound=0))
    at_risk = (pl.col("on_hand") - sells).clip(lower_bound=0).round(0).cast(pl.Int64)
    return lots.join(side, on=["sku", "location"], how="left").with_columns(
        days_left.alias("days_left"), sells.round(1).alias("sells_before_expiry"),
        at_risk.alias("at_risk_units"),
        (at_risk * pl.col("unit_cost")).alias("at_risk_value"))
