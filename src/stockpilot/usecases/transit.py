"""Stock in transit between locations: shipped → in transit → received.

Shipping posts a TRANSFER_OUT movement at the source and records the shipment; until it is
received the units count in the destination's inventory position (``in_transit``), so neither
the planner nor a second transfer supplies them again. Receiving posts the TRANSFER_IN (per
lot, for lot-tracked SKUs) and closes the record. Each step is one transaction.

:func:`ship`, :func:`in_transit` and :func:`arrivals` work on the caller's open connection
(the planning job and :func:`~stockpilot.store.uow.transact` call them); the others take an
open :class:`~stockpilot.store.uow.UnitOfWork`, and those an edge calls take the
:class:`~stockpilot.usecases.actor.Actor`: a shipment is visible at either of its ends and
received only by an operator at its destination.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Connection, func, or_, select, update

from stockpilot.domain.commands import ReceiveTransfer, ShipTransfer
from stockpilot.domain.movements import MovementKind
from stockpilot.domain.series import unique_id
from stockpilot.errors import NotFound, StockpilotError
from stockpilot.ledger.service import _error_from, apply_events
from stockpilot.store import schema as t
from stockpilot.store.schema_plan2 import transfers_in_transit as tt
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, check_locations, require

IN_TRANSIT = "in_transit"
RECEIVED = "received"


@dataclass(frozen=True)
class Shipment:
    """One line to ship: ``quantity`` of ``sku`` from ``from_location`` to ``to_location``."""

    event_id: str
    sku: str
    from_location: str
    to_location: str
    quantity: int
    expected_at: date | None = None


def ship(conn: Connection, lines: Sequence[Shipment], at: datetime | None = None
         ) -> list[int]:
    """Ship ``lines`` on the caller's open transaction; returns the shipment ids (all or none).

    A line whose event id was shipped before is not shipped again (its id is returned).

    Raises:
        InsufficientStock: the source cannot spare the quantity (nothing is shipped).
    """
    when = at or datetime.now(UTC)
    shipped = set(conn.execute(select(tt.c.event_id).where(
        tt.c.event_id.in_([ln.event_id for ln in lines]))).scalars())
    cmds = [ShipTransfer(event_id=ln.event_id, sku=ln.sku, location=ln.from_location,
                         to_location=ln.to_location, quantity=ln.quantity, occurred_at=when)
            for ln in lines if ln.event_id not in shipped]
    for result in apply_events(conn, cmds):
        if not result.ok:
            raise _error_from(result)
    ids = []
    for ln in lines:
        ids += _record(conn, ln, when)
    return ids


def _record(conn: Connection, ln: Shipment, when: datetime) -> list[int]:
    """One shipment row per lot shipped (the TRANSFER_OUT movements of its event)."""
    known = conn.execute(select(tt.c.id).where(or_(
        tt.c.event_id == ln.event_id, tt.c.event_id.like(ln.event_id + "#%")))).scalars().all()
    if known:
        return list(known)
    m = t.movements.c
    lots = conn.execute(select(m.lot_code, m.expiry, -m.on_hand_delta).where(
        m.event_id == ln.event_id, m.kind == int(MovementKind.TRANSFER_OUT))).all()
    ids = []
    for n, (lot, expiry, qty) in enumerate(lots):
        row = {"event_id": ln.event_id if n == 0 else f"{ln.event_id}#{n}", "sku": ln.sku,
               "from_location": ln.from_location, "to_location": ln.to_location,
               "quantity": int(qty), "lot_code": lot, "expiry": expiry, "status": IN_TRANSIT,
               "shipped_at": when, "expected_at": ln.expected_at}
        key = conn.execute(tt.insert().values(**row)).inserted_primary_key
        assert key is not None
        ids.append(int(key[0]))
    return ids


def shipped_before(uow: UnitOfWork, event_ids: Sequence[str]) -> set[str]:
    """The event ids among ``event_ids`` already shipped (a replay ships nothing again)."""
    return set(uow.conn.execute(select(tt.c.event_id).where(
        tt.c.event_id.in_(list(event_ids)))).scalars())


def receive(uow: UnitOfWork, actor: Actor, shipment_id: int, at: datetime | None = None
            ) -> None:
    """Receive a shipment at its destination (once; a second call changes nothing).

    Raises:
        Forbidden: the actor is below operator.
        NotFound: no shipment with that id, or its destination is not the actor's.
    """
    require(actor, "operator")
    when = at or datetime.now(UTC)
    row = uow.conn.execute(select(tt).where(tt.c.id == shipment_id)).mappings().first()
    if row is None:
        raise NotFound(f"no shipment {shipment_id}")
    check_locations(actor, [row["to_location"]], f"shipment {shipment_id}")
    if row["status"] == RECEIVED:
        return
    cmd = ReceiveTransfer(event_id=f"{row['event_id']}:received", sku=row["sku"],
                          location=row["to_location"], from_location=row["from_location"],
                          quantity=row["quantity"], lot_code=row["lot_code"],
                          expiry=row["expiry"], occurred_at=when)
    (result,) = apply_events(uow.conn, [cmd])
    if not result.ok:
        raise _error_from(result)
    done = uow.conn.execute(update(tt).where(tt.c.id == shipment_id, tt.c.status == IN_TRANSIT)
                            .values(status=RECEIVED, received_at=when))
    if done.rowcount != 1:
        raise StockpilotError(f"shipment {shipment_id} changed while receiving it")


def in_transit(conn: Connection) -> pl.DataFrame:
    """``unique_id, in_transit``: units shipped to each SKU-location and not yet received."""
    rows = conn.execute(select(tt.c.sku, tt.c.to_location, func.sum(tt.c.quantity))
                        .where(tt.c.status == IN_TRANSIT)
                        .group_by(tt.c.sku, tt.c.to_location)).all()
    df = pl.DataFrame(rows, orient="row", schema={"sku": pl.Utf8, "location": pl.Utf8,
                                                  "in_transit": pl.Int64})
    return df.select(unique_id(),
                     "in_transit")


def arrivals(conn: Connection) -> pl.DataFrame:
    """``unique_id, expected_at, qty``: open shipments by expected arrival day."""
    rows = conn.execute(select(tt.c.sku, tt.c.to_location, tt.c.expected_at, tt.c.quantity)
                        .where(tt.c.status == IN_TRANSIT)).all()
    df = pl.DataFrame(rows, orient="row", schema={"sku": pl.Utf8, "location": pl.Utf8,
                                                  "expected_at": pl.Date, "qty": pl.Int64})
    return df.select(unique_id(),
                     "expected_at", "qty")


def open_shipments(uow: UnitOfWork, actor: Actor) -> pl.DataFrame:
    """Shipments not yet received from or to the actor's locations.

    Columns ``id, sku, from_location, to_location, quantity, shipped_at, expected_at``.
    """
    stmt = (select(tt.c.id, tt.c.sku, tt.c.from_location, tt.c.to_location, tt.c.quantity,
                   tt.c.shipped_at, tt.c.expected_at)
            .where(tt.c.status == IN_TRANSIT).order_by(tt.c.id))
    if actor.locations is not None:
        scope = actor.scope() or []
        stmt = stmt.where(or_(tt.c.from_location.in_(scope), tt.c.to_location.in_(scope)))
    rows = uow.conn.execute(stmt).all()
    return pl.DataFrame(rows, orient="row", schema={
        "id": pl.Int64, "sku": pl.Utf8, "from_location": pl.Utf8, "to_location": pl.Utf8,
        "quantity": pl.Int64, "shipped_at": pl.Datetime("us", "UTC"), "expected_at": pl.Date})
