"""The alert service on real databases: every rule through ``findings``, ack/resolve history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from stockpilot.alerts import rules
from stockpilot.alerts.service import findings, history_of, raise_alerts, set_status
from stockpilot.domain import commands as c
from stockpilot.errors import NotFound
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import transact

TODAY = date(2024, 6, 30)


def at(days_ago: int, hour: int = 12) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), datetime.min.time(),
                            UTC).replace(hour=hour)


def test_ack_resolve_and_reraise_are_kept_in_history(engine):
    f = rules.Finding("low_stock", "A", "W", "warning", "available 3 ≤ reorder point 10")
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    [first] = raise_alerts(engine, [f], now=t0)
    assert raise_alerts(engine, [f], now=t0 + timedelta(minutes=5)) == []  # dedup: still open
    transact(engine, set_status, first, "acked", actor="ana", now=t0 + timedelta(hours=1))
    transact(engine, set_status, first, "resolved", actor="ana", now=t0 + timedelta(hours=2))
    assert raise_alerts(engine, [f], now=t0 + timedelta(hours=3),
                        cooldown=timedelta(hours=6)) == []  # cooldown after resolve
    [again] = raise_alerts(engine, [f], now=t0 + timedelta(hours=9),
                           cooldown=timedelta(hours=6))
    assert again != first
    steps = [(h["action"], h["status"], h["actor"]) for h in history_of(engine, first)]
    assert steps == [("raised", "open", None), ("acked", "acked", "ana"),
                     ("resolved", "resolved", "ana")]
    assert [h["action"] for h in history_of(engine, again)] == ["raised"]
    with pytest.raises(NotFound):
        transact(engine, set_status, 999_999, "acked")
    with pytest.raises(ValueError, match="acked or resolved"):
        transact(engine, set_status, first, "closed")


def _ledger(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": s, "name": s} for s in ("PH", "OK", "RS", "Z", "CT", "LO")])
        upsert_locations(conn, [{"location": "W"}])
    cmds: list[c.LedgerCommand] = [
        c.ReceiveStock(event_id="ph-in", sku="PH", location="W", quantity=20,
                       occurred_at=at(30)),                          # never sells: phantom
        c.ReceiveStock(event_id="ok-in", sku="OK", location="W", quantity=40,
                       occurred_at=at(30)),
        c.RecordSale(event_id="ok-today", sku="OK", location="W", quantity=12,
                     occurred_at=at(0)),                             # outside its band
        c.ReceiveStock(event_id="rs-in", sku="RS", location="W", quantity=5,
                       occurred_at=at(30)),
        c.RecordSale(event_id="rs-out", sku="RS", location="W", quantity=5,
                     occurred_at=at(29)),                            # sold out …
        c.ReceiveStock(event_id="rs-back", sku="RS", location="W", quantity=10,
                       occurred_at=at(1)),                           # … restocked yesterday
        c.ReceiveStock(event_id="z-in", sku="Z", location="W", quantity=500,
                       occurred_at=at(40)),
        c.RecordSale(event_id="z-today", sku="Z", location="W", quantity=40,
                     occurred_at=at(0)),                             # spike vs ~5/day
        c.ReceiveStock(event_id="ct-in", sku="CT", location="W", quantity=50,
                       occurred_at=at(10)),
        c.CountStock(event_id="ct-count", sku="CT", location="W", quantity=30,
                     occurred_at=at(0)),                             # 20 missing
        c.ReceiveStock(event_id="lo-in", sku="LO", location="W", quantity=3,
                       occurred_at=at(5)),
    ]
    assert all(r.ok for r in transact(engine, apply_events, cmds))


def _history(tmp_path) -> HistoryStore:  # type: ignore[no-untyped-def]
    hs = HistoryStore(tmp_path / "history")
    days = [TODAY + timedelta(days=h) for h in range(0, 14)]
    rows = []
    for uid, mean, lo, hi in (("PH@W", 2.0, 0, 8), ("OK@W", 2.0, 0, 8), ("RS@W", 2.0, 0, 8),
                              ("CT@W", 0.5, 0, 3), ("LO@W", 0.5, 0, 4)):
        rows += [{"unique_id": uid, "ds": d, "mean": mean, "q0.005": float(lo),
                  "q0.995": float(hi)} for d in days]
    # Z has a forecast from tomorrow only: today is judged by its recent history instead
    rows += [{"unique_id": "Z@W", "ds": d, "mean": 5.0, "q0.005": 0.0, "q0.995": 15.0}
             for d in days[1:]]
    hs.write("forecasts", "latest", pl.DataFrame(rows))
    hs.write("plans", "latest", pl.DataFrame({
        "unique_id": ["LO@W", "OK@W"], "reorder_point": [5, 5], "protection_days": [14, 14]}))
    z = [5, 6, 4, 5, 7, 5, 6, 4, 5, 6, 5, 4, 6, 5, 5, 6, 4, 5, 6, 5, 5, 4, 6, 5, 5, 6, 4, 5]
    hs.write_daily("ledger", pl.DataFrame({
        "sku": ["Z"] * len(z), "location": ["W"] * len(z),
        "date": [TODAY - timedelta(days=len(z) - i) for i in range(len(z))], "units": z}))
    return hs


def test_every_rule_through_findings(engine, tmp_path):
    _ledger(engine)
    found = {(f.rule, f.sku) for f in findings(engine, _history(tmp_path), today=TODAY)}
    assert found == {
        ("phantom_stock", "PH"),        # 20 on hand, 30 quiet days at 2/day
        ("demand_anomaly", "OK"),       # 12 sold, band [0, 8]
        ("demand_anomaly", "Z"),        # 40 vs median 5 (robust z)
        ("count_discrepancy", "CT"),    # counted 30, books 50
        ("low_stock", "LO"),            # 3 ≤ 5
        ("projected_stockout", "LO"),   # 6 days of cover < 7 days lead time
    }
    # not fired: RS (restocked yesterday, quiet 1 day), CT (counted today), LO (quiet 5 days
    # at 0.5/day: 8%), OK has 28 left (no low stock, 14 days of cover), Z sells every day


def test_many_findings_at_once_dedup_in_one_pass(engine):
    found = [rules.Finding("low_stock", f"S{i:05d}", "W", "warning", "low")
             for i in range(1200)]  # more SKUs than one IN list takes
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    assert len(raise_alerts(engine, found, now=t0)) == 1200
    assert raise_alerts(engine, found, now=t0 + timedelta(minutes=1)) == []
