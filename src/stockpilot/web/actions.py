"""Alerts and recommendations as one user sees them (their locations only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from stockpilot.alerts.service import set_status
from stockpilot.ledger.positions import get_positions
from stockpilot.store import schema as t
from stockpilot.store import schema_events as te
from stockpilot.web.data import Sources
from stockpilot.web.users import User

STATUSES = {"open": ("open", "acked"), "all": ("open", "acked", "resolved"),
            "resolved": ("resolved",)}
SEVERITY = {"critical": 0, "warning": 1}


def list_alerts(engine: Engine, user: User, status: str = "open",
                limit: int = 500) -> list[dict[str, Any]]:
    """Alerts at the user's locations, critical first, newest first within a severity."""
    a = te.alerts.c
    q = select(te.alerts).where(a.status.in_(STATUSES.get(status, STATUSES["open"])))
    if user.locations is not None:
        q = q.where(a.location.in_(sorted(user.locations)))
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q.order_by(a.id.desc()).limit(limit))]
    return sorted(rows, key=lambda r: SEVERITY.get(r["severity"], 9))


def alert_row(engine: Engine, alert_id: int) -> dict[str, Any]:
    """One alert as a dict."""
    with engine.connect() as conn:
        return dict(conn.execute(select(te.alerts).where(te.alerts.c.id == alert_id))
                    .one()._mapping)


def set_alert(engine: Engine, user: User, alert_id: int, action: str) -> bool:
    """Acknowledge or resolve an alert the user may see; False when there is none."""
    a = te.alerts.c
    with engine.connect() as conn:
        loc = conn.execute(select(a.location).where(a.id == alert_id)).scalar()
    if loc is None or not user.sees(loc):
        return False
    set_status(engine, alert_id, "acked" if action == "ack" else "resolved")
    return True


def recommend(src: Sources, user: User, customer: str, k: int = 10) -> dict[str, Any]:
    """Top in-stock items for a customer, available at the user's locations.

    Uses the model saved by ``stockpilot recommend train``; without one, says how to make it.
    """
    from stockpilot.recommend.service import for_customer

    trained = src.recommender()
    if trained is None:
        return {"error": "no trained recommender in this workspace: run `stockpilot recommend "
                "train --cutoff YYYY-MM-DD` first", "items": []}
    with src.engine.connect() as conn:
        available: dict[str, int] = {}
        for p in get_positions(conn):
            if user.sees(p.location):
                available[p.sku] = available.get(p.sku, 0) + max(p.available, 0)
        names = dict(conn.execute(select(t.skus.c.sku, t.skus.c.name)).all())
    known = customer in trained.users
    items = [{"sku": s, "name": names.get(s, ""), "available": available.get(s, 0)}
             for s in for_customer(trained, customer, available, k)]
    return {"error": None, "items": items, "known": known}
