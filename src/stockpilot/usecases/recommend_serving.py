"""What the recommender reads from the ledger database: live availability and order lines."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Connection, Engine, bindparam, func, select

from stockpilot.store import schema as t
from stockpilot.store.uow import reading

_STOCK = select(t.stock.c.sku, (t.stock.c.on_hand - t.stock.c.reserved).label("free")).where(
    t.stock.c.location == bindparam("loc"),
    t.stock.c.sku.in_(bindparam("items", expanding=True)))
_EXPIRED = (select(t.lots.c.sku, func.sum(t.lots.c.on_hand - t.lots.c.reserved))
            .where(t.lots.c.location == bindparam("loc"), t.lots.c.expiry <= bindparam("today"))
            .group_by(t.lots.c.sku))


def available(conn: Connection, location: str, items: list[str]) -> dict[str, int]:
    """Available units of ``items`` at ``location`` now, in two indexed queries.

    As the GLOSSARY has it: on hand − reserved, less the unreserved units of expired lots.
    """
    free = {r[0]: r[1] for r in conn.execute(_STOCK, {"loc": location, "items": items})}
    today = datetime.now(UTC).date()
    for sku, expired in conn.execute(_EXPIRED, {"loc": location, "today": today}):
        if sku in free:
            free[sku] -= int(expired or 0)
    return free


def available_at(engine: Engine, location: str, items: list[str]) -> dict[str, int]:
    """:func:`available` on a read-only connection of its own."""
    with reading(engine) as uow:
        return available(uow.conn.execution_options(readonly=True), location, items)


def order_lines(engine: Engine, since: datetime | None = None) -> pl.DataFrame:
    """The workspace's order lines as ``customer_id, sku, quantity, at, order_id`` (naive UTC).

    ``since`` keeps only lines at or after it (for an incremental refresh).
    """
    c = t.order_lines.c
    q = select(c.customer_id, c.sku, c.quantity, c.occurred_at, c.order_id)
    if since is not None:
        q = q.where(c.occurred_at >= since.replace(tzinfo=since.tzinfo or UTC))
    with reading(engine) as uow:
        rows = uow.conn.execute(q).all()
    df = pl.DataFrame(rows, schema={"customer_id": pl.Utf8, "sku": pl.Utf8, "quantity": pl.Int64,
                                    "at": pl.Datetime("us", "UTC"), "order_id": pl.Utf8},
                      orient="row")
    return df.with_columns(pl.col("at").dt.replace_time_zone(None))
