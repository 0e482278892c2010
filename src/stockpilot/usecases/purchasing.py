"""Purchasing and approval: purchase orders as an actor sees them, and approving a plan.

Every function takes an open :class:`~stockpilot.store.uow.UnitOfWork` and an
:class:`~stockpilot.usecases.actor.Actor`; writes are committed by whoever opened the unit of
work (the API adds its idempotency record to the same transaction). An order with a line
outside the actor's locations does not exist for it (404).

Approval is idempotent by the identity of the plan lines approved — (plan run id, SKU,
location), recorded in ``plan_approvals`` in the order's transaction — not by a date: two
locations approving one supplier each get their order; replaying an approval creates nothing
and answers the orders made the first time; a new plan (new run id) can be approved the same
day; two concurrent approvals of one line create one order (the key collides, the loser
re-reads and skips it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import exists, insert, select
from sqlalchemy.exc import IntegrityError

from stockpilot.domain.series import SeriesKey
from stockpilot.errors import NotFound
from stockpilot.ledger.purchasing import (
    OrderLine,
    cancel_purchase_order,
    create_purchase_order,
    receive_purchase_order,
)
from stockpilot.ledger.service import EventResult
from stockpilot.store import schema as t
from stockpilot.store import schema_service as ts
from stockpilot.store.artifacts import PlanRun
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, check_locations, require
from stockpilot.usecases.paging import PageRequest, page_of

PO, LN, AP = t.purchase_orders.c, t.purchase_order_lines.c, ts.plan_approvals.c
SORTABLE = {"id": PO.id, "created_at": PO.created_at, "supplier": PO.supplier,
            "expected_at": PO.expected_at}
CLAIM_ATTEMPTS = 5


@dataclass(frozen=True)
class PurchaseOrderLine:
    """One line of a purchase order."""

    line_no: int
    sku: str
    location: str
    quantity: int
    received: int
    unit_cost: float | None


@dataclass(frozen=True)
class PurchaseOrder:
    """A purchase order with its lines."""

    id: int
    supplier: str
    status: str
    reference: str | None
    created_at: datetime
    expected_at: date | None
    lines: list[PurchaseOrderLine] = field(default_factory=list)


@dataclass(frozen=True)
class Approval:
    """What an approval did: every order holding its lines, and which of them are new."""

    plan_run_id: str
    purchase_orders: list[int]
    created: list[int]


# --- reads -------------------------------------------------------------------------------

def _outside(actor: Actor) -> Any:
    """Orders with a line at a location the actor may not see."""
    return exists().where(LN.po_id == PO.id, LN.location.not_in(actor.scope() or []))


def _scoped(stmt: Any, actor: Actor) -> Any:
    return stmt if actor.locations is None else stmt.where(~_outside(actor))


def _with_lines(uow: UnitOfWork, orders: list[dict[str, Any]]) -> list[PurchaseOrder]:
    ids = [o["id"] for o in orders]
    lines: dict[int, list[PurchaseOrderLine]] = {i: [] for i in ids}
    if ids:
        for r in uow.conn.execute(select(t.purchase_order_lines).where(LN.po_id.in_(ids))
                                  .order_by(LN.po_id, LN.line_no)):
            lines[r.po_id].append(PurchaseOrderLine(
                r.line_no, r.sku, r.location, r.quantity, r.received,
                None if r.unit_cost is None else float(r.unit_cost)))
    return [PurchaseOrder(**o, lines=lines[o["id"]]) for o in orders]


def get_order(uow: UnitOfWork, actor: Actor, po_id: int) -> PurchaseOrder:
    """One purchase order (:class:`NotFound` when absent or a line is outside the scope)."""
    row = uow.conn.execute(_scoped(select(t.purchase_orders).where(PO.id == po_id),
                                   actor)).first()
    if row is None:
        raise NotFound(f"no purchase order {po_id}")
    return _with_lines(uow, [dict(row._mapping)])[0]


def list_orders(uow: UnitOfWork, actor: Actor, page: PageRequest, *,
                status: str | None = None, supplier: str | None = None
                ) -> tuple[list[PurchaseOrder], int]:
    """Orders whose every line is at the actor's locations, one page, and the total."""
    stmt = _scoped(select(t.purchase_orders), actor)
    for col, value in ((PO.status, status), (PO.supplier, supplier)):
        if value is not None:
            stmt = stmt.where(col == value)
    rows, total = page_of(uow.conn, stmt, page, SORTABLE)
    return _with_lines(uow, rows), total


def recent_orders(uow: UnitOfWork, actor: Actor, limit: int = 50) -> list[dict[str, Any]]:
    """Newest orders with a line at the actor's locations: id, supplier, status, lines, units.

    Only the visible lines count (a dashboard user sees their share of a shared order).
    """
    stmt = (select(PO.id, PO.supplier, PO.status, PO.reference, PO.created_at, LN.location,
                   LN.quantity)
            .join_from(t.purchase_orders, t.purchase_order_lines, PO.id == LN.po_id)
            .order_by(PO.id.desc()))
    if actor.locations is not None:
        stmt = stmt.where(LN.location.in_(actor.scope() or []))
    orders: dict[int, dict[str, Any]] = {}
    for r in uow.conn.execute(stmt):
        o = orders.setdefault(r.id, {"id": r.id, "supplier": r.supplier, "status": r.status,
                                     "reference": r.reference, "created_at": r.created_at,
                                     "lines": 0, "units": 0})
        o["lines"] += 1
        o["units"] += r.quantity
    return list(orders.values())[:limit]


# --- writes ------------------------------------------------------------------------------

def create_order(uow: UnitOfWork, actor: Actor, supplier: str, lines: Sequence[OrderLine], *,
                 reference: str | None = None, expected_at: date | None = None
                 ) -> tuple[PurchaseOrder, bool]:
    """Create an open order (units go on order); returns it and whether it is new.

    A ``reference`` already used returns that order instead.
    """
    require(actor, "planner")
    check_locations(actor, [ln.location for ln in lines], what="location")
    po_id, new = create_purchase_order(uow.conn, supplier, lines, reference=reference,
                                          expected_at=expected_at)
    return get_order(uow, actor, po_id), new


def receive_order(uow: UnitOfWork, actor: Actor, po_id: int,
                  received: dict[int, int] | None = None, *, event_prefix: str | None = None,
                  occurred_at: datetime | None = None,
                  lots: dict[int, tuple[str, date]] | None = None
                  ) -> tuple[list[EventResult], PurchaseOrder]:
    """Post receipts through the ledger (idempotent by event id); returns them and the order."""
    require(actor, "operator")
    get_order(uow, actor, po_id)
    results = receive_purchase_order(uow.conn, po_id, received, event_prefix=event_prefix,
                                        occurred_at=occurred_at, lots=lots)
    return results, get_order(uow, actor, po_id)


def cancel_order(uow: UnitOfWork, actor: Actor, po_id: int) -> PurchaseOrder:
    """Cancel an order: open quantities leave on order; received units stay."""
    require(actor, "planner")
    get_order(uow, actor, po_id)
    cancel_purchase_order(uow.conn, po_id)
    return get_order(uow, actor, po_id)


# --- approval ----------------------------------------------------------------------------

def due_lines(plan: PlanRun, actor: Actor, suppliers: Sequence[str] | None = None
              ) -> pl.DataFrame:
    """The plan's lines with a quantity to order, at the actor's locations (and suppliers)."""
    todo = plan.frame.filter(pl.col("order_qty") > 0)
    if suppliers:
        todo = todo.filter(pl.col("supplier").is_in(list(suppliers)))
    if actor.locations is not None:
        todo = todo.filter(pl.col("location").is_in(actor.scope() or []))
    return todo


def approve_plan(uow: UnitOfWork, actor: Actor, plan: PlanRun,
                 suppliers: Sequence[str] | None = None) -> Approval:
    """Turn the plan's due lines at the actor's locations into one order per supplier.

    Lines already approved under this plan run are not ordered again; their orders are
    answered (so a replay returns what the first approval made and creates nothing).
    """
    require(actor, "planner")
    todo = due_lines(plan, actor, suppliers)
    every: list[int] = []
    created: list[int] = []
    for (supplier,), group in todo.group_by("supplier", maintain_order=True):
        lines = [OrderLine(r["sku"], r["location"], int(r["order_qty"]))
                 for r in group.iter_rows(named=True)]
        found, new = _approve_supplier(uow, actor, plan.run_id, str(supplier), lines)
        every += [i for i in found + new if i not in every]
        created += new
    return Approval(plan.run_id, every, created)


def _approved(uow: UnitOfWork, run_id: str, supplier: str) -> dict[tuple[str, str], int]:
    """(SKU, location) → order of the supplier's lines approved under this plan run."""
    rows = uow.conn.execute(select(AP.sku, AP.location, AP.po_id).where(
        AP.plan_run_id == run_id, AP.supplier == supplier))
    return {(r.sku, r.location): int(r.po_id) for r in rows}


def _approve_supplier(uow: UnitOfWork, actor: Actor, run_id: str, supplier: str,
                      lines: list[OrderLine]) -> tuple[list[int], list[int]]:
    """(orders already holding some of ``lines``, the order made for the rest, if any)."""
    for _ in range(CLAIM_ATTEMPTS):
        taken = _approved(uow, run_id, supplier)
        mine = [taken[k] for k in ((ln.sku, ln.location) for ln in lines) if k in taken]
        rest = [ln for ln in lines if (ln.sku, ln.location) not in taken]
        found = sorted(set(mine))
        if not rest:
            return found, []
        try:
            with uow.conn.begin_nested():  # a lost race rolls back this order only
                po_id = _order_lines(uow, actor, run_id, supplier, rest)
            return found, [po_id]
        except IntegrityError:
            continue  # a concurrent approval claimed some of these lines: re-read, retry
    raise RuntimeError(f"approving {supplier!r} lost {CLAIM_ATTEMPTS} races in a row")


def _order_lines(uow: UnitOfWork, actor: Actor, run_id: str, supplier: str,
                 lines: list[OrderLine]) -> int:
    """Claim the lines for this plan run and create their order, in one savepoint."""
    keys = [f"{SeriesKey(ln.sku, ln.location)}={ln.quantity}" for ln in lines]
    ident = "\n".join([run_id, *keys])
    digest = hashlib.sha256(ident.encode()).hexdigest()[:20]
    po_id, _ = create_purchase_order(uow.conn, supplier, lines,
                                        reference=f"SUG-{supplier[:64]}-{digest}")
    now = datetime.now(UTC)
    who = actor.name or actor.role
    uow.conn.execute(insert(ts.plan_approvals), [
        {"plan_run_id": run_id, "sku": ln.sku, "location": ln.location, "supplier": supplier,
         "quantity": ln.quantity, "po_id": po_id, "approved_by": who[:128],
         "approved_at": now} for ln in lines])
    return po_id
