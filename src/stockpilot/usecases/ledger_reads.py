"""Reads of the movement ledger for compaction into daily demand (:mod:`stockpilot.jobs.compact`).

Run on the caller's unit of work (``with reading(engine) as uow``), so the watermark, the
touched series and their movements come from one snapshot of the ledger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, select

from stockpilot.store import schema as t

CHUNK = 900  # SKUs per IN (...) list: well under SQLite's bound-parameter limit
MOVEMENT_COLUMNS = ["id", "sku", "location", "kind", "on_hand_delta", "reserved_delta",
                    "occurred_at"]
_m = t.movements.c


def last_movement_id(conn: Connection) -> int:
    """The newest movement's id (0 for an empty ledger)."""
    return int(conn.execute(select(func.max(_m.id))).scalar() or 0)


def newest_movement_at(conn: Connection) -> datetime | None:
    """When the newest movement happened (None for an empty ledger)."""
    newest: datetime | None = conn.execute(select(func.max(_m.occurred_at))).scalar()
    return newest


def touched_between(conn: Connection, since: int, last: int) -> list[Any]:
    """``(sku, location, occurred_at)`` of the movements with ``since < id <= last``."""
    return list(conn.execute(select(_m.sku, _m.location, _m.occurred_at)
                             .where(_m.id > since, _m.id <= last)).all())


def movements_of(conn: Connection, skus: list[str], last: int) -> pl.DataFrame:
    """All movements of ``skus`` up to id ``last`` (columns :data:`MOVEMENT_COLUMNS`)."""
    rows: list[Any] = []
    for i in range(0, len(skus), CHUNK):
        rows += conn.execute(
            select(_m.id, _m.sku, _m.location, _m.kind, _m.on_hand_delta, _m.reserved_delta,
                   _m.occurred_at)
            .where(_m.sku.in_(skus[i:i + CHUNK]), _m.id <= last)).all()
    return pl.DataFrame(rows, schema=MOVEMENT_COLUMNS, orient="row")
