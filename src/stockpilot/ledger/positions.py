"""Stock positions per SKU-location, in the GLOSSARY's words.

available = on_hand − reserved (for lot-tracked SKUs: over lots not yet expired);
projected = on_hand + on_order − reserved; inventory position = on_hand + on_order
(negative on_hand at a backorder location is the backorder).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from stockpilot.store import schema as t


@dataclass(frozen=True)
class Position:
    """One SKU-location's stock, as a planner reads it."""

    sku: str
    location: str
    on_hand: int
    reserved: int
    available: int
    on_order: int
    projected: int
    expired: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return asdict(self)


def _expired_free(today: date) -> Any:
    """Per stock row: unreserved units in lots whose expiry has passed (not available).

    A correlated subquery on the lots' primary key (SKU, location, …): a page or one SKU's
    rows cost a few index probes, not an aggregate over every lot.
    """
    c, s = t.lots.c, t.stock.c
    return func.coalesce(
        select(func.sum(c.on_hand - c.reserved))
        .where(c.sku == s.sku, c.location == s.location, c.expiry <= today)
        .scalar_subquery(), 0)


def positions_query(today: date | None = None) -> Any:
    """A SELECT of all positions (filter and page it further as needed)."""
    today = today or datetime.now(UTC).date()
    s = t.stock.c
    expired = _expired_free(today)
    return (
        select(
            s.sku, s.location, s.on_hand, s.reserved,
            (s.on_hand - s.reserved - expired).label("available"),
            s.on_order,
            (s.on_hand + s.on_order - s.reserved).label("projected"),
            expired.label("expired"),
        )
        .order_by(s.sku, s.location)
    )


def get_positions(conn: Connection, *, sku: str | None = None, location: str | None = None,
                  today: date | None = None, limit: int | None = None, offset: int = 0
                  ) -> list[Position]:
    """Positions, optionally for one SKU and/or location."""
    q = positions_query(today)
    s = t.stock.c
    if sku is not None:
        q = q.where(s.sku == sku)
    if location is not None:
        q = q.where(s.location == location)
    if limit is not None:
        q = q.limit(limit).offset(offset)
    return [Position(**r._mapping) for r in conn.execute(q)]
