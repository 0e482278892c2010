"""Evaluate the rules, store alerts (dedup + cooldown, with history), notify, ack/resolve.

An alert is keyed by (rule, SKU, location). While one is open or acknowledged, the same
condition found again only refreshes its message; once resolved it may be raised again after
the cooldown. Every transition is appended to ``alert_history``; every delivery attempt to
``notifications`` (a final failure stays there as the dead letter).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, insert, select, update

from stockpilot import metrics
from stockpilot.alerts import anomaly, inputs, rules
from stockpilot.alerts.notifiers import deliver
from stockpilot.alerts.routing import Router, route
from stockpilot.errors import NotFound, StockpilotError
from stockpilot.store import schema_events as te
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import reading, writing

COOLDOWN = timedelta(hours=24)
Notifiers = Sequence[Any] | Router


def findings(engine: Engine, history: HistoryStore, today: date | None = None,
             since_movement: int = 0) -> list[rules.Finding]:
    """Run every rule whose inputs exist (plans and forecasts are optional)."""
    today = today or datetime.now(UTC).date()
    cache = inputs.PlanCache(history)
    plan, fc = cache.get("plans"), cache.get("forecasts")
    with reading(engine) as uow:
        pos = inputs.positions(uow.conn, today)
        arrivals = inputs.arrivals(uow.conn)
        counts = inputs.counts_since(uow.conn, since_movement, pos)
        lots = inputs.lots(uow.conn)
        demand = inputs.demand_on(uow.conn, today)
        quiet = inputs.quiet_days(uow.conn, pos, today) if fc is not None else None
    out = position_findings(pos, plan, fc, arrivals, today)
    out += rules.count_discrepancy(counts) if counts.height else []
    if lots.height and fc is not None:
        out += rules.expiring_lots(lots, fc, today)
    recent = history.daily(start=today - timedelta(days=56), end=today - timedelta(days=1))
    out += anomaly.demand_anomaly(demand, fc, recent, today)
    if quiet is not None and fc is not None:
        out += anomaly.phantom_stock(quiet, fc)
    return out


def position_findings(pos: pl.DataFrame, plan: pl.DataFrame | None,
                      fc: pl.DataFrame | None, arrivals: pl.DataFrame | None = None,
                      today: date | None = None) -> list[rules.Finding]:
    """The rules that need only positions, the plan, the forecast and what is on its way.

    ``arrivals`` (open PO lines and transfers by expected date) move the projected stock on
    the day they are due; without them nothing is on its way.
    """
    if not pos.height or plan is None or "reorder_point" not in plan.columns:
        return []
    out = rules.low_stock(pos, plan)
    return out + (rules.projected_stockout(pos, fc, plan, arrivals, today)
                  if fc is not None else [])


def raise_alerts(engine: Engine, found: Sequence[rules.Finding], notifiers: Notifiers = (),
                 now: datetime | None = None, cooldown: timedelta = COOLDOWN,
                 send: Callable[[Callable[[], None]], Any] | None = None) -> list[int]:
    """Store new alerts and notify each on its rule's channels; returns the new alert ids.

    ``send`` runs each delivery (default: now, in this thread); the stream passes an
    executor's ``submit`` so a slow receiver never holds up the ledger.
    """
    now = now or datetime.now(UTC)
    new: list[tuple[int, str]] = []
    with writing(engine) as uow:
        latest = _latest(uow.conn, found)
        for f in found:
            last = latest.get((f.rule, f.sku, f.location))
            if last is not None and last.status != "resolved":
                if last.message != f.message:
                    uow.conn.execute(update(te.alerts).where(te.alerts.c.id == last.id)
                                     .values(message=f.message, updated_at=now))
                continue
            if last is not None and _aware(last.updated_at) > now - cooldown:
                continue
            alert_id = _insert_alert(uow.conn, f, now)
            latest[(f.rule, f.sku, f.location)] = _Row(alert_id, "open", f.message, now)
            new.append((alert_id, f.rule))
    for alert_id, rule in new:
        metrics.ALERTS.labels(rule).inc()
        targets = route(notifiers, rule)
        if targets:
            job = partial(_notify, engine, alert_id, targets)
            job() if send is None else send(job)
    return [alert_id for alert_id, _ in new]


class _Row:
    def __init__(self, id_: int, status: str, message: str, updated_at: datetime) -> None:
        self.id, self.status, self.message, self.updated_at = id_, status, message, updated_at


def _latest(conn: Connection, found: Sequence[rules.Finding]) -> dict[tuple[str, str, str], Any]:
    """The newest alert per (rule, SKU, location) among the rules found (one query)."""
    if not found:
        return {}
    a = te.alerts.c
    wanted = {(f.rule, f.sku, f.location) for f in found}
    skus = {f.sku for f in found}
    q = select(a.id, a.rule, a.sku, a.location, a.status, a.message, a.updated_at).where(
        a.rule.in_({f.rule for f in found}))
    if len(skus) <= 900:  # beyond that, by rule alone (SQLite caps bound parameters)
        q = q.where(a.sku.in_(skus))
    rows = conn.execute(q.order_by(a.id)).all()
    return {(r.rule, r.sku, r.location): r for r in rows
            if (r.rule, r.sku, r.location) in wanted}


def _insert_alert(conn: Connection, f: rules.Finding, now: datetime) -> int:
    a = te.alerts.c
    alert_id: int = conn.execute(insert(te.alerts).values(
        rule=f.rule, sku=f.sku, location=f.location, severity=f.severity, message=f.message,
        status="open", created_at=now, updated_at=now).returning(a.id)).scalar_one()
    conn.execute(insert(te.alert_history).values(alert_id=alert_id, action="raised",
                                                 status="open", message=f.message, at=now))
    return alert_id


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _notify(engine: Engine, alert_id: int, notifiers: Sequence[Any]) -> None:
    if not notifiers:
        return
    with reading(engine) as uow:
        row = dict(uow.conn.execute(select(te.alerts).where(te.alerts.c.id == alert_id)).one()
                       ._mapping)
    for n in notifiers:
        sent, attempts, error = deliver(n, row)
        with writing(engine) as uow:
            uow.conn.execute(insert(te.notifications).values(
                    alert_id=alert_id, channel=n.channel, status="sent" if sent else "failed",
                    attempts=attempts, last_error=error, created_at=datetime.now(UTC)))


class AlertClosed(StockpilotError):
    """An action on an alert that is already resolved."""

    status = 409
    title = "Alert already resolved"

    def __init__(self, alert_id: int, action: str) -> None:
        verb = {"acked": "acknowledged", "resolved": "resolved"}.get(action, action)
        super().__init__(f"alert {alert_id} is resolved and cannot be {verb} again")
        self.alert_id = alert_id


def set_status(conn: Connection, alert_id: int, status: str, actor: str | None = None,
               now: datetime | None = None) -> None:
    """Acknowledge (``acked``) or resolve (``resolved``) an alert; recorded in its history.

    Runs on the caller's open transaction (the caller commits).
    """
    if status not in ("acked", "resolved"):
        raise ValueError(f"status must be acked or resolved, not {status!r}")
    now = now or datetime.now(UTC)
    # a resolved alert is closed: acking (or resolving) it again would rewrite its history;
    # the condition, if it comes back, raises a new alert after the cooldown
    done = conn.execute(update(te.alerts).where(te.alerts.c.id == alert_id,
                                                te.alerts.c.status != "resolved")
                        .values(status=status, updated_at=now))
    if done.rowcount == 0:
        found = conn.execute(select(te.alerts.c.id).where(te.alerts.c.id == alert_id)).first()
        raise AlertClosed(alert_id, status) if found else NotFound(f"no alert {alert_id}")
    conn.execute(insert(te.alert_history).values(
        alert_id=alert_id, action=status, status=status, actor=actor, at=now))


def history_of(engine: Engine, alert_id: int) -> list[dict[str, Any]]:
    """Every transition of one alert, oldest first."""
    h = te.alert_history.c
    with reading(engine) as uow:
        rows = uow.conn.execute(select(h.action, h.status, h.message, h.actor, h.at)
                                .where(h.alert_id == alert_id).order_by(h.id)).all()
    return [dict(r._mapping) for r in rows]


def update_planning_gauges(engine: Engine, cache: inputs.PlanCache,
                           today: date | None = None) -> dict[str, float | None]:
    """Recompute the planning KPI gauges from the whole book (not just what changed)."""
    today = today or datetime.now(UTC).date()
    with reading(engine) as uow:
        pos = inputs.positions(uow.conn, today)
        arrivals = inputs.arrivals(uow.conn)
    found = position_findings(pos, cache.get("plans"), cache.get("forecasts"), arrivals, today)
    below = sum(f.rule == "low_stock" for f in found)
    stockouts = sum(f.rule == "projected_stockout" for f in found)
    fill = inputs.fill_rate(engine, today)
    metrics.BELOW_REORDER.set(below)
    metrics.PROJECTED_STOCKOUTS.set(stockouts)
    if fill is not None:
        metrics.FILL_RATE_28D.set(fill)
    return {"below_reorder_point": below, "projected_stockouts": stockouts, "fill_rate": fill}
