"""What the rules read, gathered from the ledger and the history store (the I/O side).

Each function returns a polars frame in the shape one rule of :mod:`stockpilot.alerts.rules`
or :mod:`stockpilot.alerts.anomaly` takes, so the rules stay pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, func, select, text, tuple_

from stockpilot.domain.movements import MovementKind
from stockpilot.domain.series import SeriesKey, split_unique_id, unique_id
from stockpilot.ledger.positions import get_positions, positions_query
from stockpilot.store import schema as t
from stockpilot.store import schema_events as te
from stockpilot.store.artifacts import ArtifactStore
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import reading
from stockpilot.usecases.transit import arrivals as transit_arrivals
from stockpilot.usecases.transit import in_transit

POSITION_SCHEMA: dict[str, Any] = {"sku": pl.Utf8, "location": pl.Utf8, "on_hand": pl.Int64,
                   "reserved": pl.Int64, "available": pl.Int64, "on_order": pl.Int64,
                   "projected": pl.Int64, "expired": pl.Int64}


def positions(conn: Connection, today: date, keys: Iterable[tuple[str, str]] | None = None
              ) -> pl.DataFrame:
    """Positions of every SKU-location, or of ``keys`` only (the stream's touched rows).

    ``in_transit`` is what was shipped to the SKU-location and not yet received.
    """
    if keys is None:
        rows = [p.to_dict() for p in get_positions(conn, today=today)]
        return _with_transit(conn, pl.DataFrame(rows, schema=POSITION_SCHEMA))
    s = t.stock.c
    wanted, out = sorted(keys), []
    for start in range(0, len(wanted), 900):
        q = positions_query(today).where(tuple_(s.sku, s.location).in_(wanted[start:start + 900]))
        out += [dict(r._mapping) for r in conn.execute(q)]
    return _with_transit(conn, pl.DataFrame(out, schema=POSITION_SCHEMA))


def _with_transit(conn: Connection, pos: pl.DataFrame) -> pl.DataFrame:
    transit = in_transit(conn).with_columns(
        *split_unique_id()).drop("unique_id")
    return pos.join(transit, on=["sku", "location"], how="left").with_columns(
        pl.col("in_transit").fill_null(0))


def arrivals(conn: Connection, keys: Iterable[tuple[str, str]] | None = None) -> pl.DataFrame:
    """``unique_id, expected_at, qty``: open PO lines and transfers in transit, by due date.

    A PO line is due on its order's ``expected_at``, else on the day it was placed plus the
    supplier's stated lead time for the SKU; a transfer on its ``expected_at``, else the day
    after it was shipped. Partly received lines bring only what is still open.
    """
    po, ln, si = t.purchase_orders.c, t.purchase_order_lines.c, t.supplier_items.c
    q = (select(ln.sku, ln.location, po.expected_at, po.created_at, si.lead_time_days,
                (ln.quantity - ln.received).label("qty"))
         .join_from(t.purchase_order_lines, t.purchase_orders, po.id == ln.po_id)
         .outerjoin(t.supplier_items, (si.supplier == po.supplier) & (si.sku == ln.sku))
         .where(po.status.in_(["open", "partial"]), ln.quantity > ln.received))
    rows = [(sku, loc, exp or (_aware(created).date() + timedelta(days=lead or 0)), int(qty))
            for sku, loc, exp, created, lead, qty in conn.execute(q)]
    tr = transit_arrivals(conn).with_columns(pl.col("expected_at").fill_null(
        pl.lit(date.today() + timedelta(days=1))))
    out = pl.concat([pl.DataFrame(rows, orient="row", schema={
        "sku": pl.Utf8, "location": pl.Utf8, "expected_at": pl.Date, "qty": pl.Int64}).select(
        unique_id(), "expected_at", "qty"),
        tr])
    if keys is not None:
        out = out.filter(pl.col("unique_id").is_in([str(SeriesKey(*k)) for k in keys]))
    return out


def demand_on(conn: Connection, day: date) -> pl.DataFrame:
    """Net units sold on ``day`` (UTC) per SKU-location: ``sku, location, units``."""
    m = t.movements.c
    start = datetime.combine(day, time(), UTC)
    rows = conn.execute(select(m.sku, m.location, (-func.sum(m.on_hand_delta)).label("units"))
                        .where(m.kind.in_([int(MovementKind.SALE), int(MovementKind.RETURN)]),
                               m.occurred_at >= start,
                               m.occurred_at < start + timedelta(days=1))
                        .group_by(m.sku, m.location)).all()
    return pl.DataFrame(rows, schema={"sku": pl.Utf8, "location": pl.Utf8, "units": pl.Int64},
                        orient="row")


# The last time each SKU-location's on_hand went from ≤ 0 to > 0 (a window over the ledger:
# the running balance after and before each movement).
_RESTOCKED = text(
    "SELECT sku, location, max(occurred_at) AS at FROM ("
    " SELECT sku, location, occurred_at, on_hand_delta,"
    "  sum(on_hand_delta) OVER (PARTITION BY sku, location ORDER BY id) AS after"
    " FROM movements) AS r "
    "WHERE after - on_hand_delta <= 0 AND after > 0 GROUP BY sku, location")


def quiet_days(conn: Connection, pos: pl.DataFrame, today: date) -> pl.DataFrame:
    """``sku, location, on_hand, quiet_days``: days since the last sale, count or restock.

    A restock counts only when it brought on_hand up from zero or below (no sale was possible
    before it); a count verified the shelf.
    """
    m = t.movements.c
    # a count verifies the shelf, so silence is measured from it too
    sold = conn.execute(select(m.sku, m.location, func.max(m.occurred_at))
                        .where(m.kind.in_([int(MovementKind.SALE), int(MovementKind.COUNT)]))
                        .group_by(m.sku, m.location)).all()
    since: dict[tuple[str, str], datetime] = {(s, loc): _aware(at) for s, loc, at in sold}
    for s, loc, at in conn.execute(_RESTOCKED):
        at = _aware(at) if isinstance(at, datetime) else _parse(at)
        since[(s, loc)] = max(since.get((s, loc), at), at)
    rows = [{"sku": r["sku"], "location": r["location"], "on_hand": r["on_hand"],
             "quiet_days": (today - since[(r["sku"], r["location"])].date()).days}
            for r in pos.iter_rows(named=True) if (r["sku"], r["location"]) in since]
    return pl.DataFrame(rows, schema={"sku": pl.Utf8, "location": pl.Utf8,
                                      "on_hand": pl.Int64, "quiet_days": pl.Int64})


def counts_since(conn: Connection, since_movement: int, books: pl.DataFrame) -> pl.DataFrame:
    """Counts after movement ``since_movement``: ``sku, location, variance, counted``.

    Counts from a stock-snapshot import set opening balances and are not discrepancies.
    """
    m = t.movements.c
    rows = conn.execute(select(m.sku, m.location, m.variance).where(
        m.kind == int(MovementKind.COUNT), m.id > since_movement,
        ~m.event_id.like("import:%"))).all()
    on_hand = {(r["sku"], r["location"]): r["on_hand"] for r in books.iter_rows(named=True)}
    return pl.DataFrame([{"sku": s, "location": loc, "variance": v or 0,
                          "counted": on_hand.get((s, loc), 0)} for s, loc, v in rows],
                        schema={"sku": pl.Utf8, "location": pl.Utf8, "variance": pl.Int64,
                                "counted": pl.Int64})


def lots(conn: Connection) -> pl.DataFrame:
    """Every lot: ``sku, location, lot_code, expiry, on_hand, reserved``."""
    c = t.lots.c
    rows = conn.execute(select(c.sku, c.location, c.lot_code, c.expiry, c.on_hand,
                               c.reserved)).all()
    return pl.DataFrame(rows, schema={"sku": pl.Utf8, "location": pl.Utf8,
                                      "lot_code": pl.Utf8, "expiry": pl.Date,
                                      "on_hand": pl.Int64, "reserved": pl.Int64}, orient="row")


def fill_rate(engine: Engine, today: date, days: int = 28) -> float | None:
    """Units sold ÷ units asked for over the last ``days`` (GLOSSARY: fill rate).

    Asked for = sold + sales refused for insufficient stock (those sit in ``dead_letters``
    with their requested quantity); None when nothing was asked for.
    """
    start = datetime.combine(today - timedelta(days=days - 1), time(), UTC)
    m, d = t.movements.c, te.dead_letters.c
    with reading(engine) as uow:
        sold = -(uow.conn.execute(select(func.coalesce(func.sum(m.on_hand_delta), 0)).where(
            m.kind == int(MovementKind.SALE), m.occurred_at >= start)).scalar_one())
        refused = uow.conn.execute(select(d.body).where(d.error_type == "InsufficientStock",
                                                        d.created_at >= start)).scalars().all()
    lost = sum(_quantity(b) for b in refused)
    return sold / (sold + lost) if sold + lost else None


def _quantity(body: str) -> int:
    try:
        return abs(int(json.loads(body).get("quantity", 0)))
    except (ValueError, TypeError, AttributeError):
        return 0


class PlanCache:
    """The latest plan and forecast (None when absent), re-read only when their files change.

    The one artifact cache (:class:`stockpilot.store.artifacts.ArtifactStore`) under the
    names the alert rules use (raw frames, ``None`` rather than ``NoPlanYet``).
    """

    def __init__(self, history: HistoryStore) -> None:
        self.history = history
        self.artifacts = ArtifactStore(history)

    def get(self, dataset: str) -> pl.DataFrame | None:
        """``plans/latest`` or ``forecasts/latest`` (None when absent)."""
        return self.artifacts.cached(f"alerts:{dataset}", dataset, "latest",
                                     lambda: self.history.read(dataset, "latest"))


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _parse(value: Any) -> datetime:
    """SQLite returns window-query timestamps as text."""
    return _aware(datetime.fromisoformat(str(value)))
