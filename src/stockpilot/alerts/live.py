"""Alerts while the stream flows: after each committed batch, check what it touched.

``stockpilot stream --alerts`` passes a :class:`LiveAlerts` to its source as ``on_batch``. It
runs the cheap position rules (low stock, projected stockout) on the SKU-locations the batch
changed, against the latest plan and forecast (re-read only when their files change), and
raises + routes alerts at once — so a sale that takes a SKU below its reorder point reaches the
webhook within the batch's own latency. Deliveries (with their retries) and the planning
gauges — recomputed over the whole book at most every ``gauges_every_s`` — run on two worker
threads, so a slow or failing receiver never holds up the ledger. The nightly rules (counts,
lots, anomalies, phantom stock) stay with ``stockpilot alerts check``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
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
from stockpilot.store.uow import reading


class LiveAlerts:
    """The ``on_batch`` hook of a stream consumer."""

    def __init__(self, engine: Engine, history: HistoryStore, notifiers: Notifiers = (),
                 gauges_every_s: float = 30.0, cooldown: Any = COOLDOWN,
                 background: bool = True) -> None:
        self.engine, self.notifiers, self.cooldown = engine, notifiers, cooldown
        self.cache = inputs.PlanCache(history)
        self.gauges_every_s = gauges_every_s
        self._gauges_due = 0.0
        self.raised: list[int] = []
        # deliveries and the whole-book gauges run beside the consumer, not in its way
        self._pool = ThreadPoolExecutor(2, "alerts") if background else None

    def __call__(self, result: Any) -> None:
        """Check the SKU-locations ``result.touched``; raise and route what is found."""
        touched: set[tuple[str, str]] = getattr(result, "touched", set())
        plan = self.cache.get("plans")
        if touched and plan is not None:
            today = datetime.now(UTC).date()
            with reading(self.engine) as uow:
                pos = inputs.positions(uow.conn, today, touched)
                arrivals = inputs.arrivals(uow.conn, touched)
            found = position_findings(pos, plan, self.cache.get("forecasts"), arrivals, today)
            if found:
                self.raised += raise_alerts(self.engine, found, self.notifiers,
                                            cooldown=self.cooldown, send=self._run)
        if time.monotonic() >= self._gauges_due:
            self._gauges_due = time.monotonic() + self.gauges_every_s
            self._run(partial(update_planning_gauges, self.engine, self.cache))

    def _run(self, job: Callable[[], Any]) -> None:
        if self._pool is None:
            job()
        else:
            self._pool.submit(job)

    def close(self) -> None:
        """Wait for deliveries still under way (call before the process exits)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
