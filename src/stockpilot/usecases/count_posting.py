"""Approving counts into the ledger, and the variance history per SKU.

Approval needs the planner role (or higher). Each counted line is posted through the ledger
use case (:func:`stockpilot.usecases.movements.post_one`), idempotent by the event id
``count:<session>:<sku>``, in the caller's transaction:

* a SKU that is not lot-tracked gets a ``count`` event whose level is the book *at approval*
  plus the variance found at the scan — so movements recorded between the scan and the
  approval are kept, and a count that found no variance is still a ``count`` movement (the
  shelf was verified: the phantom-stock rule measures silence from it). The stock row is
  locked first (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction already holds the
  lock), so no sale slips in between reading the book and posting the level;
* a lot-tracked SKU gets an ``adjustment`` of the variance (lots are counted as one SKU
  total: a loss is taken FEFO, found units go to the lot with the latest expiry).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from stockpilot.domain.commands import AdjustStock, CountStock, LedgerCommand
from stockpilot.errors import InvalidEvent, UnknownSku
from stockpilot.store import schema as t
from stockpilot.store import schema_counts as tc
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import movements
from stockpilot.usecases.actor import Actor, require
from stockpilot.usecases.counting import CL, CS, SessionConflict, session_row

APPROVER = "planner"


def approve(uow: UnitOfWork, actor: Actor, session_id: int, *, skus: list[str] | None = None,
            now: datetime | None = None) -> list[dict[str, Any]]:
    """Post the counted lines of a session (or the listed ``skus``) as ledger movements.

    Lines still waiting for a (re)count are refused when named, skipped otherwise. The session
    closes once every line is posted.
    """
    require(actor, APPROVER)
    conn, at = uow.conn, now or datetime.now(UTC)
    _lock_session(conn, session_id)
    sess = session_row(conn, actor, session_id)
    if sess.status != "open":
        raise SessionConflict(f"count session {session_id} is closed")
    lines = _lines_to_post(conn, session_id, skus)
    out = []
    for line in lines:
        event_id = _post(uow, actor, line, at)
        conn.execute(update(tc.count_lines).where(CL.session_id == session_id,
                                                  CL.sku == line["sku"])
                     .values(status="posted", approved_by=actor.name or actor.role,
                             approved_at=at, event_id=event_id))
        out.append({"sku": line["sku"], "variance": line["variance"], "event_id": event_id})
    _close_when_done(conn, session_id, at)
    return out


def _lock_session(conn: Connection, session_id: int) -> None:
    """Serialise approvals of one session (a second approver waits, then finds them posted).

    SQLite's ``BEGIN IMMEDIATE`` already serialises every writer.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(CS.id).where(CS.id == session_id).with_for_update())


def _lines_to_post(conn: Connection, session_id: int, skus: list[str] | None
                   ) -> list[dict[str, Any]]:
    stmt = select(tc.count_lines).where(CL.session_id == session_id).order_by(CL.sku)
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    if skus is None:
        return [r for r in rows if r["status"] == "counted"]
    by_sku = {r["sku"]: r for r in rows}
    for sku in skus:
        if sku not in by_sku:
            raise SessionConflict(f"{sku} is not in count session {session_id}")
        if by_sku[sku]["status"] != "counted":
            raise SessionConflict(f"{sku} is {by_sku[sku]['status']}, not counted: it cannot "
                                  "be approved yet")
    return [by_sku[s] for s in sorted(set(skus))]


def _post(uow: UnitOfWork, actor: Actor, line: dict[str, Any], at: datetime) -> str | None:
    """Post one line; the ledger event id, or None when nothing needed posting."""
    sku, loc, variance = line["sku"], line["location"], int(line["variance"])
    lot_tracked, on_hand = _lock_book(uow.conn, sku, loc)
    event_id = f"count:{line['session_id']}:{sku}"
    ref = f"count session {line['session_id']}"
    cmd: LedgerCommand
    if not lot_tracked:
        level = on_hand + variance
        if level < 0:
            raise SessionConflict(
                f"{sku}@{loc}: the book moved since the count ({on_hand} now, variance "
                f"{variance:+d} would leave {level}): recount it")
        cmd = CountStock(event_id=event_id, sku=sku, location=loc, quantity=level,
                         occurred_at=at, reference=ref)
    elif variance == 0:
        return None
    else:
        lot = None if variance < 0 else _newest_lot(uow.conn, sku, loc, event_id)
        cmd = AdjustStock(event_id=event_id, sku=sku, location=loc, quantity=variance,
                          occurred_at=at, reference=ref, lot_code=lot, reason="cycle count")
    movements.post_one(uow, actor, cmd, role=APPROVER)
    return event_id


def _lock_book(conn: Connection, sku: str, location: str) -> tuple[bool, int]:
    """(lot-tracked?, on hand now), with the stock row locked until the transaction ends."""
    s = t.stock.c
    tracked = conn.execute(select(t.skus.c.lot_tracked).where(t.skus.c.sku == sku)).scalar()
    if tracked is None:
        raise UnknownSku(sku)
    stmt = select(s.on_hand).where(s.sku == sku, s.location == location)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return bool(tracked), int(conn.execute(stmt).scalar() or 0)


def _newest_lot(conn: Connection, sku: str, location: str, event_id: str) -> str:
    c = t.lots.c
    code = conn.execute(select(c.lot_code).where(c.sku == sku, c.location == location)
                        .order_by(c.expiry.desc(), c.lot_code.desc()).limit(1)).scalar()
    if code is None:
        raise InvalidEvent(event_id, f"{sku}@{location} has no lot to put found units in")
    return str(code)


def _close_when_done(conn: Connection, session_id: int, at: datetime) -> None:
    left = conn.execute(select(CL.sku).where(CL.session_id == session_id,
                                             CL.status != "posted").limit(1)).first()
    if left is None:
        conn.execute(update(tc.count_sessions).where(CS.id == session_id)
                     .values(status="closed", closed_at=at))


def variance_history(uow: UnitOfWork, actor: Actor, sku: str, *, location: str | None = None
                     ) -> list[dict[str, Any]]:
    """Approved counts of ``sku`` at the actor's locations, newest first.

    Each: session, location, frozen book, book at the count, first count and final count,
    variance in units and in value, who counted and approved, and the ledger event.
    """
    require(actor, "viewer")
    if uow.conn.execute(select(t.skus.c.sku).where(t.skus.c.sku == sku)).first() is None:
        raise UnknownSku(sku)
    stmt = (select(CL.session_id, CL.location, CL.frozen_on_hand, CL.book_on_hand,
                   CL.first_counted, CL.counted, CL.variance, CL.unit_cost, CL.attempts,
                   CL.counted_by, CL.counted_at, CL.approved_by, CL.approved_at, CL.event_id)
            .where(CL.sku == sku, CL.status == "posted")
            .order_by(CL.approved_at.desc(), CL.session_id.desc()))
    if location is not None:
        stmt = stmt.where(CL.location == location)
    if actor.locations is not None:
        stmt = stmt.where(CL.location.in_(actor.scope() or []))
    rows = [dict(r) for r in uow.conn.execute(stmt).mappings()]
    for r in rows:
        r["variance_value"] = round(float(r["variance"] or 0) * float(r["unit_cost"]), 2)
    return rows
