"""Alerts while the stream flows: after each committed batch, check what it touched.

``stockpilot stream --alerts`` passes a :class:`LiveAlerts` to its source as ``on_batch``. It
runs the cheap position rules (low stock, projected stockout) on the SKU-locations the batch
changed, against the latest plan and forecast (re-read only when their files change), and
raises + routes alerts at once — so a sale that takes a SKU below its reorder point reaches the
webhook within the batch's own latency. The planning gauges are recomputed over the whole book
at most every ``gauges_every_s``. The nightly rules (counts, lots, anomalies, phantom stock)
stay with ``stockpilot alerts check``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from stockpilot.alerts import inputs
from stockpilot.alerts.service import (
    COOLDOWN,
    Notifiers,
    position_findings,
    raise_alerts,
    update_planning_gauges,
)
from stockpilot.store.history import HistoryStore


class LiveAlerts:
    """The ``on_batch`` hook of a stream consumer."""

    def __init__(self, engine: Engine, history: HistoryStore, notifiers: Notifiers = (),
                 gauges_every_s: float = 10.0, cooldown: Any = COOLDOWN) -> None:
        self.engine, self.notifiers, self.cooldown = engine, notifiers, cooldown
        self.cache = inputs.PlanCache(history)
        self.gauges_every_s = gauges_every_s
        self._gauges_due = 0.0
        self.raised: list[int] = []

    def __call__(self, result: Any) -> None:
        """Check the SKU-locations ``result.touched``; raise and route what is found."""
        touched = getattr(result, "touched", set())
        plan = self.cache.get("plans")
        if touched and plan is not None:
            today = datetime.now(UTC).date()
            with self.engine.connect() as conn:
                pos = inputs.positions(conn, today, touched)
            found = position_findings(pos, plan, self.cache.get("forecasts"))
            if found:
                self.raised += raise_alerts(self.engine, found, self.notifiers,
                                            cooldown=self.cooldown)
        if time.monotonic() >= self._gauges_due:
            self._gauges_due = time.monotonic() + self.gauges_every_s
            update_planning_gauges(self.engine, self.cache)
