"""Compaction of ledger sales/returns into daily demand and censored (stockout) days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from stockpilot.domain.commands import ReceiveStock, RecordReturn, RecordSale, ReserveStock
from stockpilot.jobs.compact import censored_days, compact
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import transact


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2024, 3, day, hour, tzinfo=UTC)


def test_sales_and_returns_fold_into_days_and_stockouts_carry_over(engine, tmp_path):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "a"}, {"sku": "B", "name": "b"}])
        upsert_locations(conn, [{"location": "W"}])
    history = HistoryStore(tmp_path / "h")
    transact(engine, apply_events, [
        ReceiveStock(event_id="r1", sku="A", location="W", quantity=5, occurred_at=at(1, 8)),
        RecordSale(event_id="s1", sku="A", location="W", quantity=2, occurred_at=at(1)),
        RecordSale(event_id="s2", sku="A", location="W", quantity=3, occurred_at=at(2)),
        RecordReturn(event_id="x1", sku="A", location="W", quantity=1, occurred_at=at(4)),
        ReceiveStock(event_id="r2", sku="B", location="W", quantity=4, occurred_at=at(1)),
        ReserveStock(event_id="v1", sku="B", location="W", quantity=4, occurred_at=at(3)),
    ])
    report = compact(engine, history)
    assert report.new_movements == 6
    daily = history.daily(sources=["ledger"]).select("sku", "date", "units").rows()
    assert daily == [("A", date(2024, 3, 1), 2), ("A", date(2024, 3, 2), 3),
                     ("A", date(2024, 3, 4), -1)]
    out = censored_days(history).sort("sku", "date").select("sku", "date").rows()
    # A: zero after the sale on the 2nd, still zero on the 3rd, back (1 unit) on the 4th.
    # B: all 4 reserved on the 3rd, nothing changes on the 4th (the newest day).
    assert out == [("A", date(2024, 3, 2)), ("A", date(2024, 3, 3)),
                   ("B", date(2024, 3, 3)), ("B", date(2024, 3, 4))]
    again = compact(engine, history)
    assert again.new_movements == 0
    transact(engine, apply_events, [RecordSale(event_id="s3", sku="A", location="W", quantity=1,
                                               occurred_at=at(5))])
    third = compact(engine, history)
    assert (third.new_movements, third.series_recomputed) == (1, 1)
    units = history.daily(sources=["ledger"]).filter(pl.col("sku") == "A")["units"].to_list()
    assert units == [2, 3, -1, 1]
