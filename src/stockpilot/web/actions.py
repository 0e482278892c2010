"""Alerts and recommendations as one user sees them (their locations only, via use cases)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stockpilot.errors import NotFound
from stockpilot.store.uow import reading, writing
from stockpilot.usecases import alerts, catalogue, stock
from stockpilot.usecases.actor import Actor
from stockpilot.web.data import Sources

if TYPE_CHECKING:
    from stockpilot.store.db import Engine

STATUSES = alerts.STATUSES


def list_alerts(engine: Engine, user: Actor, status: str = "open",
                limit: int = 500) -> list[dict[str, Any]]:
    """Alerts at the user's locations, critical first, newest first within a severity."""
    with reading(engine) as uow:
        return alerts.board(uow, user, status, limit)


def alert_row(engine: Engine, user: Actor, alert_id: int) -> dict[str, Any]:
    """One alert the user may see, as a dict."""
    with reading(engine) as uow:
        return alerts.get_alert(uow, user, alert_id)


def set_alert(engine: Engine, user: Actor, alert_id: int, action: str) -> bool:
    """Acknowledge or resolve an alert the user may see; False when there is none."""
    try:
        with writing(engine) as uow:
            alerts.set_status(uow, user, alert_id, alerts.ACTIONS[action])
    except (KeyError, NotFound):
        return False
    return True


def recommend(src: Sources, user: Actor, customer: str, k: int = 10) -> dict[str, Any]:
    """Top in-stock items for a customer, available at the user's locations.

    Uses the model saved by ``stockpilot recommend train``; without one, says how to make it.
    """
    from stockpilot.recommend.service import for_customer

    trained = src.recommender()
    if trained is None:
        return {"error": "no trained recommender in this workspace: run `stockpilot recommend "
                "train --cutoff YYYY-MM-DD` first", "items": []}
    with reading(src.engine) as uow:
        available = stock.available_by_sku(uow, user)
        names = catalogue.sku_names(uow, user)
    known = customer in trained.users
    items = [{"sku": s, "name": names.get(s, ""), "available": available.get(s, 0)}
             for s in for_customer(trained, customer, available, k)]
    return {"error": None, "items": items, "known": known}
