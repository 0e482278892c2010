"""What cycle-count ranking reads from the ledger: one frame per SKU-location (the I/O side).

Two grouped queries (stock joined to the catalogue; movements aggregated per SKU-location with
conditional sums) and the approved count lines, joined in polars into the shape
:func:`stockpilot.planning.counting.rank_counts` takes. Only the actor's locations are read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, Float, case, cast, func, select

from stockpilot.domain.movements import MovementKind
from stockpilot.planning.counting import INPUT_SCHEMA
from stockpilot.store import schema as t
from stockpilot.store import schema_counts as tc
from stockpilot.usecases.actor import Actor

M, S, K, L = t.movements.c, t.stock.c, t.skus.c, tc.count_lines.c
SALE, RETURN, COUNT = (int(MovementKind.SALE), int(MovementKind.RETURN),
                       int(MovementKind.COUNT))


def _where_locations(stmt: Any, col: Any, actor: Actor, location: str | None) -> Any:
    if location is not None:
        stmt = stmt.where(col == location)
    if actor.locations is not None:
        stmt = stmt.where(col.in_(actor.scope() or []))
    return stmt


def gather(conn: Connection, actor: Actor, now: datetime, location: str | None = None
           ) -> pl.DataFrame:
    """:data:`~stockpilot.planning.counting.INPUT_SCHEMA` rows for every stock row in scope."""
    today = now.date()
    stock = _stock(conn, actor, location)
    if stock.is_empty():
        return pl.DataFrame(schema=INPUT_SCHEMA)
    moves = _movement_stats(conn, actor, location, now)
    counted = _last_counts(conn, actor, location)
    df = stock.join(moves, on=["sku", "location"], how="left").join(
        counted, on=["sku", "location"], how="left")
    last_count = pl.max_horizontal("ledger_count", "line_count")
    quiet_from = pl.max_horizontal("last_sale", "last_inbound", last_count)
    return df.select(
        "sku", "location", "on_hand", "unit_cost",
        pl.col("sold_365").fill_null(0), pl.col("sold_28").fill_null(0),
        _days(today, last_count).alias("days_since_count"),
        # whole days of silence: today is not over, so a sale yesterday means 0 quiet days
        (_days(today, quiet_from) - 1).clip(lower_bound=0).alias("quiet_days"),
        pl.col("last_variance")).cast(INPUT_SCHEMA)  # type: ignore[arg-type]


def _days(today: date, col: pl.Expr) -> pl.Expr:
    return (pl.lit(today) - col).dt.total_days()


def _stock(conn: Connection, actor: Actor, location: str | None) -> pl.DataFrame:
    # a SKU without a cost is valued by its price, else as one unit of money: it still ranks
    cost = cast(func.coalesce(K.unit_cost, K.price, 1), Float)  # floats, not Decimals
    stmt = _where_locations(select(S.sku, S.location, S.on_hand, cost.label("unit_cost"))
                            .join_from(t.stock, t.skus, K.sku == S.sku), S.location, actor,
                            location)
    rows = conn.execute(stmt).all()
    return pl.DataFrame([(r[0], r[1], r[2], float(r[3])) for r in rows], orient="row",
                        schema={"sku": pl.Utf8, "location": pl.Utf8, "on_hand": pl.Int64,
                                "unit_cost": pl.Float64})


def _movement_stats(conn: Connection, actor: Actor, location: str | None, now: datetime
                    ) -> pl.DataFrame:
    """Units sold (net of returns) over 365 and 28 days; last sale, inbound and count."""
    y1, d28 = now - timedelta(days=365), now - timedelta(days=28)
    demand = M.kind.in_([SALE, RETURN])
    stmt = select(
        M.sku, M.location,
        func.sum(case((demand & (M.occurred_at >= y1), -M.on_hand_delta), else_=0)),
        func.sum(case((demand & (M.occurred_at >= d28), -M.on_hand_delta), else_=0)),
        func.max(case((M.kind == SALE, M.occurred_at))),
        func.max(case((M.on_hand_delta > 0, M.occurred_at))),
        # stock-snapshot imports set opening balances: a book, not a count of the shelf
        func.max(case(((M.kind == COUNT) & ~M.event_id.like("import:%"), M.occurred_at))),
    ).group_by(M.sku, M.location)
    rows = conn.execute(_where_locations(stmt, M.location, actor, location)).all()
    return pl.DataFrame(
        [(r[0], r[1], int(r[2] or 0), int(r[3] or 0), _day(r[4]), _day(r[5]), _day(r[6]))
         for r in rows], orient="row",
        schema={"sku": pl.Utf8, "location": pl.Utf8, "sold_365": pl.Int64, "sold_28": pl.Int64,
                "last_sale": pl.Date, "last_inbound": pl.Date, "ledger_count": pl.Date})


def _last_counts(conn: Connection, actor: Actor, location: str | None) -> pl.DataFrame:
    """The latest posted count line per SKU-location: when, and the variance it found."""
    stmt = _where_locations(select(L.sku, L.location, L.counted_at, L.variance)
                            .where(L.status == "posted"), L.location, actor, location)
    latest: dict[tuple[str, str], tuple[date, int]] = {}
    for sku, loc, at, var in conn.execute(stmt):
        day = _day(at)
        if day is not None and ((sku, loc) not in latest or latest[(sku, loc)][0] <= day):
            latest[(sku, loc)] = (day, int(var or 0))
    return pl.DataFrame([(s, loc, d, v) for (s, loc), (d, v) in latest.items()], orient="row",
                        schema={"sku": pl.Utf8, "location": pl.Utf8, "line_count": pl.Date,
                                "last_variance": pl.Int64})


def _day(value: Any) -> date | None:
    """A timestamp's UTC day; SQLite returns aggregated timestamps as text (naive UTC)."""
    if value is None:
        return None
    if isinstance(value, str):  # "YYYY-MM-DD HH:MM:SS…": the day is its first ten characters
        return date.fromisoformat(value[:10])
    ts: datetime = value if value.tzinfo is None else value.astimezone(UTC)
    return ts.date()
