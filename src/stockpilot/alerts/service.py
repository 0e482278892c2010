"""Evaluate the rules on the workspace, store alerts (dedup + cooldown), notify, ack/resolve."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, insert, select, update

from stockpilot import metrics
from stockpilot.alerts import rules
from stockpilot.alerts.notifiers import deliver
from stockpilot.errors import NotFound
from stockpilot.ledger.positions import get_positions
from stockpilot.store import schema as t
from stockpilot.store import schema_events as te
from stockpilot.store.history import HistoryStore

COOLDOWN = timedelta(hours=24)


def findings(engine: Engine, history: HistoryStore, today: date | None = None,
             since_movement: int = 0) -> list[rules.Finding]:
    """Run every rule whose inputs exist (plans/forecasts are optional)."""
    today = today or datetime.now(UTC).date()
    with engine.connect() as conn:
        pos = pl.DataFrame([p.to_dict() for p in get_positions(conn, today=today)])
        m = t.movements.c
        # counts from a stock-snapshot import set opening balances: not discrepancies
        counts = conn.execute(select(m.sku, m.location, m.variance, m.on_hand_delta).where(
            m.kind == 70, m.id > since_movement, ~m.event_id.like("import:%"))).all()
        lots = conn.execute(select(t.lots)).all()
        books = {(p["sku"], p["location"]): p["on_hand"] for p in pos.iter_rows(named=True)} \
            if pos.height else {}
    out: list[rules.Finding] = []
    plan = history.read("plans", "latest") if "latest" in history.parts("plans") else None
    fc = history.read("forecasts", "latest") if "latest" in history.parts("forecasts") else None
    if pos.height and plan is not None and "reorder_point" in plan.columns:
        out += rules.low_stock(pos, plan)
        if fc is not None:
            out += rules.projected_stockout(pos, fc, plan)
    if counts:
        cdf = pl.DataFrame([{"sku": s, "location": loc, "variance": v,
                             "counted": books.get((s, loc), 0)} for s, loc, v, _ in counts])
        out += rules.count_discrepancy(cdf)
    if lots and fc is not None:
        ldf = pl.DataFrame([dict(r._mapping) for r in lots])
        out += rules.expiring_lots(ldf, fc, today)
    return out


def raise_alerts(engine: Engine, found: Sequence[rules.Finding], notifiers: Sequence[Any] = (),
                 now: datetime | None = None) -> list[int]:
    """Store new alerts and notify each on every channel; returns the new alert ids.

    An open alert for the same rule and SKU-location is updated, not repeated; a resolved one
    only comes back after the cooldown.
    """
    now = now or datetime.now(UTC)
    a = te.alerts.c
    new_ids = []
    with engine.begin() as conn:
        for f in found:
            last = conn.execute(select(a.id, a.status, a.updated_at).where(
                a.rule == f.rule, a.sku == f.sku, a.location == f.location)
                .order_by(a.id.desc()).limit(1)).first()
            if last is not None and last.status != "resolved":
                conn.execute(update(te.alerts).where(a.id == last.id)
                             .values(message=f.message, updated_at=now))
                continue
            if last is not None and _aware(last.updated_at) > now - COOLDOWN:
                continue
            metrics.ALERTS.labels(f.rule).inc()
            new_ids.append(conn.execute(insert(te.alerts).values(
                rule=f.rule, sku=f.sku, location=f.location, severity=f.severity,
                message=f.message, status="open", created_at=now, updated_at=now)
                .returning(a.id)).scalar_one())
    metrics.BELOW_REORDER.set(sum(f.rule == "low_stock" for f in found))
    metrics.PROJECTED_STOCKOUTS.set(sum(f.rule == "projected_stockout" for f in found))
    for alert_id in new_ids:
        _notify(engine, alert_id, notifiers)
    return new_ids


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _notify(engine: Engine, alert_id: int, notifiers: Sequence[Any]) -> None:
    with engine.connect() as conn:
        row = dict(conn.execute(select(te.alerts).where(te.alerts.c.id == alert_id)).one()
                   ._mapping)
    for n in notifiers:
        sent, attempts, error = deliver(n, row)
        with engine.begin() as conn:
            conn.execute(insert(te.notifications).values(
                alert_id=alert_id, channel=n.channel, status="sent" if sent else "failed",
                attempts=attempts, last_error=error, created_at=datetime.now(UTC)))


def set_status(engine: Engine, alert_id: int, status: str) -> None:
    """Acknowledge (``acked``) or resolve (``resolved``) an alert."""
    with engine.begin() as conn:
        set_status_in(conn, alert_id, status)


def set_status_in(conn: Connection, alert_id: int, status: str) -> None:
    """:func:`set_status` on an open transaction (the caller commits)."""
    if status not in ("acked", "resolved"):
        raise ValueError(f"status must be acked or resolved, not {status!r}")
    done = conn.execute(update(te.alerts).where(te.alerts.c.id == alert_id)
                        .values(status=status, updated_at=datetime.now(UTC)))
    if done.rowcount == 0:
        raise NotFound(f"no alert {alert_id}")
