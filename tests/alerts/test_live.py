"""Alerts raised while the stream flows, and the planning KPI gauges."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from stockpilot import metrics
from stockpilot.alerts.inputs import PlanCache, fill_rate
from stockpilot.alerts.live import LiveAlerts
from stockpilot.alerts.routing import Router
from stockpilot.alerts.service import update_planning_gauges
from stockpilot.domain import commands as c
from stockpilot.events import embedded
from stockpilot.events.schema import dump
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.store.history import HistoryStore


@dataclass
class Recorder:
    """A hand-written fake notifier."""

    channel: str
    sent: list[Any] = field(default_factory=list)

    def send(self, alert: dict[str, Any]) -> None:
        self.sent.append((alert["rule"], alert["sku"]))


def _setup(engine, tmp_path) -> HistoryStore:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": s, "name": s} for s in ("A", "B")])
        upsert_locations(conn, [{"location": "W"}])
    hs = HistoryStore(tmp_path / "history")
    today = datetime.now(UTC).date()
    hs.write("plans", "latest", pl.DataFrame({"unique_id": ["A@W", "B@W"],
                                              "reorder_point": [10, 10],
                                              "protection_days": [14, 14]}))
    hs.write("forecasts", "latest", pl.DataFrame({
        "unique_id": ["A@W", "B@W"], "ds": [today + timedelta(days=1)] * 2,
        "mean": [2.0, 2.0]}))
    return hs


def _ev(cls: type, eid: str, sku: str, qty: int) -> tuple[str, bytes]:
    return eid, dump(cls(event_id=eid, sku=sku, location="W", quantity=qty,
                         occurred_at=datetime.now(UTC)))


def test_a_batch_that_crosses_the_reorder_point_raises_and_routes(engine, tmp_path):
    hs = _setup(engine, tmp_path)
    web, sms = Recorder("webhook"), Recorder("sms")
    live = LiveAlerts(engine, hs, Router({"webhook": web, "sms": sms},
                                         {"low_stock": ["webhook"],
                                          "projected_stockout": ["webhook", "sms"]}),
                      gauges_every_s=0, background=False)
    embedded.publish(engine, [_ev(c.ReceiveStock, "a1", "A", 40),
                              _ev(c.ReceiveStock, "b1", "B", 40)])
    before = metrics.value("stockpilot_alerts_total", rule="low_stock") or 0
    embedded.consume_once(engine, on_batch=live)
    assert live.raised == [] and web.sent == []
    embedded.publish(engine, [_ev(c.RecordSale, "a2", "A", 35)])  # A: 5 left, B untouched
    embedded.consume_once(engine, on_batch=live)
    assert sorted(web.sent) == [("low_stock", "A"), ("projected_stockout", "A")]
    assert sms.sent == [("projected_stockout", "A")]
    assert metrics.value("stockpilot_alerts_total", rule="low_stock") == before + 1
    embedded.publish(engine, [_ev(c.RecordSale, "a3", "A", 1)])  # still low: no repeat
    embedded.consume_once(engine, on_batch=live)
    assert len(web.sent) == 2 and len(live.raised) == 2
    assert metrics.value("stockpilot_planning_skus_below_reorder_point") == 1
    assert metrics.value("stockpilot_planning_projected_stockouts") == 1


def test_planning_gauges_and_fill_rate(engine, tmp_path):
    hs = _setup(engine, tmp_path)
    embedded.publish(engine, [_ev(c.ReceiveStock, "a1", "A", 8),
                              _ev(c.ReceiveStock, "b1", "B", 30),
                              _ev(c.RecordSale, "a2", "A", 6),
                              _ev(c.RecordSale, "a3", "A", 4)])   # refused: only 2 left
    embedded.consume_once(engine)
    assert fill_rate(engine, datetime.now(UTC).date()) == 6 / 10
    kpis = update_planning_gauges(engine, PlanCache(hs))
    assert kpis == {"below_reorder_point": 1, "projected_stockouts": 1, "fill_rate": 0.6}
    assert metrics.value("stockpilot_planning_fill_rate_28d") == 0.6
    assert b"stockpilot_planning_fill_rate_28d 0.6" in metrics.exposition()
