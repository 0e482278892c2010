"""A small workspace with every report section populated, numbers small enough to check by hand.

Ledger (unit costs A 2.5, B 4.0):
  2024-06-20  receive A@W 40, A@S 40, B@W 30 (lot L1, expires 2024-07-10)
  06-21…06-28 sell A@W 3 a day (24)
  06-25       write off A@S 5
  06-26       count A@S at 30 (book 35: variance −5)
  06-27       adjust A@W +2
Now: A@W 18, A@S 30, B@W 30 → stock value (18 + 30) × 2.5 + 30 × 4 = 240.
History: A@W and A@S sell 4 a day for 90 days to 2024-06-30 (A@W censored on 06-29);
B@W sold until 2024-04-01 only (a slow mover).
Forecast: 4 a day for A, 2 a day for B from 07-01; backtest (cv) of hand-set errors.
Plan: order-up-to A@W 10 (excess 8), A@S 80 (order 50), B@W 20 (excess 10).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from stockpilot.domain.commands import (
    AdjustStock,
    CountStock,
    ReceiveStock,
    RecordSale,
    WriteOff,
)
from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.ledger.catalogue import (
    upsert_locations,
    upsert_skus,
    upsert_supplier_items,
    upsert_suppliers,
)
from stockpilot.ledger.service import apply_events
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import transact

AS_OF = date(2024, 6, 30)


def _at(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def ledger(engine) -> None:
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "Red mug", "unit_cost": 2.5, "price": 6},
                           {"sku": "B", "name": "Blue bowl", "unit_cost": 4, "price": 9,
                            "lot_tracked": True, "shelf_life_days": 90}])
        upsert_locations(conn, [{"location": "W"}, {"location": "S"}])
        upsert_suppliers(conn, [{"supplier": "SUP", "name": "Supplier"}])
        upsert_supplier_items(conn, [{"supplier": "SUP", "sku": s, "lead_time_days": 7,
                                      "moq": 1, "pack_size": 1} for s in ("A", "B")])
    d0 = date(2024, 6, 20)
    ev = [ReceiveStock(event_id=f"r-A-{loc}", sku="A", location=loc, quantity=40,
                       occurred_at=_at(d0)) for loc in ("W", "S")]
    ev.append(ReceiveStock(event_id="r-B-W", sku="B", location="W", quantity=30,
                           occurred_at=_at(d0), lot_code="L1", expiry=date(2024, 7, 10)))
    ev += [RecordSale(event_id=f"s-{i}", sku="A", location="W", quantity=3,
                      occurred_at=_at(d0 + timedelta(days=i))) for i in range(1, 9)]
    ev += [WriteOff(event_id="wo-1", sku="A", location="S", quantity=5,
                    occurred_at=_at(date(2024, 6, 25))),
           CountStock(event_id="c-1", sku="A", location="S", quantity=30,
                      occurred_at=_at(date(2024, 6, 26))),
           AdjustStock(event_id="adj-1", sku="A", location="W", quantity=2,
                       occurred_at=_at(date(2024, 6, 27)))]
    transact(engine, apply_events, ev)


def history(root: Path) -> HistoryStore:
    h = HistoryStore(root / "history")
    days = [AS_OF - timedelta(days=i) for i in range(89, -1, -1)]
    rows = [{"sku": "A", "location": loc, "date": d, "units": 0 if (loc, d) == (
        "W", date(2024, 6, 29)) else 4} for loc in ("W", "S") for d in days]
    rows += [{"sku": "B", "location": "W", "date": date(2024, 4, 1) - timedelta(days=i),
              "units": 2} for i in range(30)]
    h.write_daily("import", pl.DataFrame(rows))
    h.write("stockouts", "ledger", pl.DataFrame(
        {"sku": ["A"], "location": ["W"], "date": [date(2024, 6, 29)]}))
    fc = []
    for s, loc, mean in (("A", "W", 4.0), ("A", "S", 4.0), ("B", "W", 2.0)):
        for k in range(1, 29):
            row = {"unique_id": f"{s}@{loc}", "sku": s, "location": loc,
                   "ds": AS_OF + timedelta(days=k), "mean": mean}
            row.update({qcol(q): mean for q in QUANTILES})
            fc.append(row)
    h.write("forecasts", "latest", pl.DataFrame(fc))
    cut = date(2024, 6, 2)
    # A@W: actual 10, forecast 8 (err 2); A@S: 10 vs 13 (err 3); B@W: 4 vs 4
    h.write("forecasts", "cv", pl.DataFrame(
        {"unique_id": ["A@W", "A@S", "B@W"], "cutoff": [cut] * 3,
         "ds": [cut + timedelta(days=1)] * 3, "h": [1, 1, 1],
         "y": [10.0, 10.0, 4.0], "mean": [8.0, 13.0, 4.0]}))
    h.write("plans", "latest", pl.DataFrame([
        {"unique_id": uid, "supplier": "SUP", "klass": k, "service_level": 0.95,
         "protection_days": 14, "order_up_to": out, "reorder_point": 5, "order_qty": q,
         "order_value": q * 2.5, "reason": f"{uid}: order-up-to {out}"}
        for uid, k, out, q in (("A@W", "AX", 10, 0), ("A@S", "BY", 80, 50),
                               ("B@W", "CZ", 20, 0))]))
    return h


def make(engine, root: Path) -> HistoryStore:
    ledger(engine)
    return history(root)
