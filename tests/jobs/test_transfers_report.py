"""Regression (issue 12, bug 2): posting transfers reports what the ledger applied and rejected.

Before the fix ``apply_transfers`` returned the number of lines sent, so a transfer the ledger
rejected (the DC no longer had the units) was reported as posted.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from sqlalchemy import select

from stockpilot.domain.commands import ReceiveStock
from stockpilot.jobs.transfers import apply_transfers
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store import schema as t
from stockpilot.store.uow import transact
from stockpilot.usecases.transit import in_transit

AT = datetime(2024, 6, 1, tzinfo=UTC)


def test_rejected_transfers_are_reported_not_counted(engine):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A"}, {"sku": "B"}])
        upsert_locations(conn, [{"location": loc} for loc in ("DC", "S1", "S2")])
    transact(engine, apply_events,
             [ReceiveStock(event_id="r-A", sku="A", location="DC", quantity=10,
                           occurred_at=AT)])
    lines = pl.DataFrame({"sku": ["A", "A", "B"], "from_location": ["DC"] * 3,
                          "to_location": ["S1", "S2", "S1"], "qty": [6, 3, 5]})
    lines = lines.with_columns(pl.col("qty").cast(pl.Int64))
    first = apply_transfers(engine, lines, at=AT)
    assert first.applied == 2 and first.duplicates == 0
    assert [(r.sku, r.to_location) for r in first.rejected] == [("B", "S1")]
    assert "B" in first.rejected[0].error and first.rejected[0].event_id.endswith("B-DC-S1")
    again = apply_transfers(engine, lines, at=AT)
    assert again.applied == 0 and again.duplicates == 2 and len(again.rejected) == 1
    with engine.connect() as conn:
        on_hand = dict(conn.execute(select(t.stock.c.location, t.stock.c.on_hand)
                                    .where(t.stock.c.sku == "A")).all())
    # shipped lines leave the DC now and are in transit to the stores until received
    assert on_hand == {"DC": 1, "S1": 0, "S2": 0}
    with engine.connect() as conn:
        moving = dict(in_transit(conn).select("unique_id", "in_transit").iter_rows())
    assert moving == {"A@S1": 6, "A@S2": 3}
