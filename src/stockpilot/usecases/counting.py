"""Cycle counting as an actor: count lists, sessions that freeze the book, scans, recounts.

Roles: a planner (or higher) lists, starts sessions and approves; an operator (or higher)
scans. Every session, line and SKU outside the actor's locations answers "not found".

How movements during a session are accounted for: starting a session freezes each line's
book (``frozen_on_hand``). Sales, receipts and transfers keep flowing into the ledger while
the shelf is counted. A scan is compared with the book *at the moment of the scan* — the
frozen quantity plus every movement recorded since (which is the stock row's ``on_hand``);
the line keeps both, so the difference (movements during the session) stays visible. The
variance is ``counted − book at scan``. Approval (:mod:`stockpilot.usecases.count_posting`)
posts that variance on top of the book *at approval*, so movements between the scan and the
approval are kept too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, insert, select, update

from stockpilot.config import CountingSettings
from stockpilot.errors import NotFound, StockpilotError, UnknownLocation, UnknownSku
from stockpilot.planning.counting import CountPolicy, check_count, count_list, rank_counts
from stockpilot.store import schema as t
from stockpilot.store import schema_counts as tc
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, check_locations, require
from stockpilot.usecases.count_inputs import gather

CS, CL, SC, BC = tc.count_sessions.c, tc.count_lines.c, tc.count_scans.c, tc.sku_barcodes.c
LIST_COLUMNS = ("rank", "sku", "location", "abc", "frequency_days", "on_hand", "unit_cost",
                "value", "velocity", "days_since_count", "quiet_days", "phantom_p", "anomaly",
                "risk", "due")


class SessionConflict(StockpilotError):
    """The session's state does not allow this (closed, already open, not counted)."""

    status = 409
    title = "Count session conflict"


class NothingToCount(StockpilotError):
    """A session would have no lines."""

    status = 422
    title = "Nothing to count"


def policy_of(settings: CountingSettings | None) -> CountPolicy:
    """The pure policy for the workspace's ``[stockpilot.counting]`` settings."""
    s = settings or CountingSettings()
    return CountPolicy(a_days=s.a_days, b_days=s.b_days, c_days=s.c_days,
                       tolerance_units=s.tolerance_units, tolerance_pct=s.tolerance_pct)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def ranked(uow: UnitOfWork, actor: Actor, policy: CountPolicy, *, location: str | None = None,
           now: datetime | None = None) -> pl.DataFrame:
    """Every SKU-location in scope (or of ``location``) ranked by count risk."""
    require(actor, "planner")
    if location is not None:
        check_locations(actor, [location], what="location")
    return rank_counts(gather(uow.conn, actor, _now(now), location), policy)


def list_due(uow: UnitOfWork, actor: Actor, policy: CountPolicy, *,
             location: str | None = None, due_only: bool = True, limit: int | None = None,
             now: datetime | None = None) -> list[dict[str, Any]]:
    """The count list: due lines (or all) per location, riskiest first, ``limit`` each."""
    df = count_list(ranked(uow, actor, policy, location=location, now=now),
                    due_only=due_only, limit=limit)
    return df.select(LIST_COLUMNS).to_dicts()


# --- sessions ----------------------------------------------------------------------------


def start_session(uow: UnitOfWork, actor: Actor, location: str, policy: CountPolicy, *,
                  limit: int | None = None, skus: list[str] | None = None,
                  now: datetime | None = None) -> int:
    """Open a session at ``location`` freezing the book of its due lines (or of ``skus``).

    One open session per location at a time, so no SKU is counted twice concurrently.
    """
    require(actor, "planner")
    check_locations(actor, [location], what="location")
    conn, at = uow.conn, _now(now)
    if conn.execute(select(t.locations.c.location).where(
            t.locations.c.location == location)).first() is None:
        raise UnknownLocation(location)
    if conn.execute(select(CS.id).where(CS.location == location,
                                        CS.status == "open")).first() is not None:
        raise SessionConflict(f"a count session is already open at {location}")
    lines = _session_lines(conn, actor, location, policy, limit, skus, at)
    if not lines:
        raise NothingToCount(f"nothing is due for counting at {location}")
    sid = int(conn.execute(insert(tc.count_sessions).values(
        location=location, status="open", started_by=actor.name or actor.role,
        started_at=at).returning(CS.id)).scalar_one())
    conn.execute(insert(tc.count_lines), [{**line, "session_id": sid} for line in lines])
    return sid


def _session_lines(conn: Connection, actor: Actor, location: str, policy: CountPolicy,
                   limit: int | None, skus: list[str] | None, at: datetime
                   ) -> list[dict[str, Any]]:
    df = rank_counts(gather(conn, actor, at, location), policy)
    if skus:
        _known_skus(conn, skus)
        df = df.filter(pl.col("sku").is_in(skus))
        missing = sorted(set(skus) - set(df["sku"].to_list()))
        extra = [{"sku": s, "location": location, "rank": 0, "abc": "C", "risk": 0.0,
                  "unit_cost": _unit_cost(conn, s), "on_hand": 0}
                 for s in missing]  # no stock row there yet
        rows = df.to_dicts() + extra
    else:
        rows = count_list(df, due_only=True, limit=limit).to_dicts()
    return [{"sku": r["sku"], "location": location, "rank": r["rank"], "abc": r["abc"],
             "risk": float(r["risk"]), "unit_cost": float(r["unit_cost"]),
             "frozen_on_hand": int(r["on_hand"]), "status": "pending", "attempts": 0}
            for r in rows]


def _known_skus(conn: Connection, skus: list[str]) -> None:
    found = set(conn.execute(select(t.skus.c.sku).where(t.skus.c.sku.in_(skus))).scalars())
    for sku in skus:
        if sku not in found:
            raise UnknownSku(sku)


def _unit_cost(conn: Connection, sku: str) -> float:
    k = t.skus.c
    got = conn.execute(select(func.coalesce(k.unit_cost, k.price, 1)).where(k.sku == sku)
                       ).scalar()
    return float(got if got is not None else 1)


def session_row(conn: Connection, actor: Actor, session_id: int) -> Any:
    """The session (NotFound outside the actor's scope)."""
    row = conn.execute(select(tc.count_sessions).where(CS.id == session_id)).first()
    if row is None:
        raise NotFound(f"no such count session {session_id}")
    check_locations(actor, [row.location], what=f"count session {session_id}")
    return row


def get_session(uow: UnitOfWork, actor: Actor, session_id: int) -> dict[str, Any]:
    """A session with its lines (in rank order) and their state."""
    require(actor, "viewer")
    row = session_row(uow.conn, actor, session_id)
    lines = uow.conn.execute(select(tc.count_lines).where(CL.session_id == session_id)
                             .order_by(CL.rank == 0, CL.rank, CL.sku)).mappings().all()
    return {**dict(row._mapping), "lines": [_line_view(dict(r)) for r in lines]}


def _line_view(r: dict[str, Any]) -> dict[str, Any]:
    book = r["book_on_hand"]
    r["moved_since_start"] = None if book is None else book - r["frozen_on_hand"]
    return r


def list_sessions(uow: UnitOfWork, actor: Actor, *, location: str | None = None,
                  status: str | None = None) -> list[dict[str, Any]]:
    """Sessions at the actor's locations, newest first, with line counts by status."""
    require(actor, "viewer")
    stmt = select(tc.count_sessions).order_by(CS.id.desc())
    if location is not None:
        stmt = stmt.where(CS.location == location)
    if status is not None:
        stmt = stmt.where(CS.status == status)
    if actor.locations is not None:
        stmt = stmt.where(CS.location.in_(actor.scope() or []))
    rows = [dict(r) for r in uow.conn.execute(stmt).mappings()]
    counts = uow.conn.execute(select(CL.session_id, CL.status, func.count())
                              .group_by(CL.session_id, CL.status)).all()
    for r in rows:
        r["lines"] = {st: n for sid, st, n in counts if sid == r["id"]}
    return rows


# --- scans -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    """What a scan did to its line."""

    session_id: int
    sku: str
    location: str
    counted: int
    frozen_on_hand: int
    book_on_hand: int
    variance: int
    tolerance_units: float
    status: str  # recount | counted
    attempts: int

    @property
    def recount(self) -> bool:
        """True when the count was past the tolerance and a recount is asked for."""
        return self.status == "recount"


def resolve_code(conn: Connection, code: str) -> str:
    """The SKU a scanned code names: a registered barcode first, else the SKU itself."""
    sku = conn.execute(select(BC.sku).where(BC.barcode == code)).scalar()
    if sku is not None:
        return str(sku)
    if conn.execute(select(t.skus.c.sku).where(t.skus.c.sku == code)).first() is None:
        raise UnknownSku(code)
    return code


def scan(uow: UnitOfWork, actor: Actor, session_id: int, code: str, quantity: int,
         policy: CountPolicy, *, now: datetime | None = None) -> ScanResult:
    """Record a count of the item ``code`` names (barcode or SKU): ``quantity`` units seen.

    The first count past the tolerance asks for a recount; the recount stands (it is what
    the approver sees, with the first count kept beside it). A SKU not on the list is added
    (found stock) with the book it has now.
    """
    require(actor, "operator")
    if quantity < 0:
        raise StockpilotError(f"a counted quantity cannot be negative ({quantity})")
    conn, at = uow.conn, _now(now)
    sess = session_row(conn, actor, session_id)
    if sess.status != "open":
        raise SessionConflict(f"count session {session_id} is closed")
    sku = resolve_code(conn, code.strip())
    book = _book(conn, sku, sess.location)
    line = _line_or_add(conn, session_id, sku, sess.location, book)
    if line["status"] == "posted":
        raise SessionConflict(f"{sku} was already approved in session {session_id}")
    check = check_count(book, quantity, policy)
    status = "recount" if check.recount and line["status"] != "recount" else "counted"
    attempts = int(line["attempts"]) + 1
    conn.execute(update(tc.count_lines).where(CL.session_id == session_id, CL.sku == sku)
                 .values(status=status, attempts=attempts, book_on_hand=book, counted=quantity,
                         first_counted=line["first_counted"] if line["attempts"] else quantity,
                         variance=check.variance, counted_by=actor.name or actor.role,
                         counted_at=at))
    conn.execute(insert(tc.count_scans).values(
        session_id=session_id, sku=sku, code=code[:128], quantity=quantity, book_on_hand=book,
        variance=check.variance, recount=int(status == "recount"),
        scanned_by=actor.name or actor.role, scanned_at=at))
    return ScanResult(session_id, sku, sess.location, quantity, int(line["frozen_on_hand"]),
                      book, check.variance, check.tolerance_units, status, attempts)


def _book(conn: Connection, sku: str, location: str) -> int:
    """The ledger's on hand now: the frozen book plus every movement recorded since."""
    s = t.stock.c
    got = conn.execute(select(s.on_hand).where(s.sku == sku, s.location == location)).scalar()
    return int(got or 0)


def _line_or_add(conn: Connection, session_id: int, sku: str, location: str, book: int
                 ) -> dict[str, Any]:
    row = conn.execute(select(tc.count_lines).where(CL.session_id == session_id,
                                                    CL.sku == sku)).mappings().first()
    if row is not None:
        return dict(row)
    new = {"session_id": session_id, "sku": sku, "location": location, "rank": 0, "abc": "C",
           "risk": 0.0, "unit_cost": _unit_cost(conn, sku), "frozen_on_hand": book,
           "status": "pending", "attempts": 0, "first_counted": None}
    conn.execute(insert(tc.count_lines).values(new))
    return new


def add_barcodes(uow: UnitOfWork, actor: Actor, pairs: dict[str, str]) -> int:
    """Register barcodes (barcode → SKU); an existing barcode is pointed at its new SKU."""
    require(actor, "planner")
    _known_skus(uow.conn, sorted(set(pairs.values())))
    for code, sku in pairs.items():
        uow.conn.execute(tc.sku_barcodes.delete().where(BC.barcode == code))
        uow.conn.execute(insert(tc.sku_barcodes).values(barcode=code, sku=sku))
    return len(pairs)
