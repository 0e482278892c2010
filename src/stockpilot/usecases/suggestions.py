"""Editable order suggestions: change, drop, snooze, order once; approve a selection.

Edits belong to one plan run (a new plan recomputes every quantity); snoozes hold across runs
until their date. The lines a planner sees and approves are :func:`effective_lines`: the
plan's due lines with the edits applied. Every edit is recorded in the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import delete, select

from stockpilot.errors import NotFound, StockpilotError
from stockpilot.store import schema as t
from stockpilot.store import schema_orders as to
from stockpilot.store import schema_service as ts
from stockpilot.store.artifacts import PlanRun
from stockpilot.store.db import dialect_insert
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import audit, purchasing
from stockpilot.usecases.actor import Actor, check_locations, require
from stockpilot.usecases.supplier_terms import primary_supplier, terms_of

E, S = to.suggestion_edits.c, to.suggestion_snoozes.c
COLUMNS = {"sku": pl.Utf8, "location": pl.Utf8, "supplier": pl.Utf8, "order_qty": pl.Int64,
           "suggested_qty": pl.Int64, "order_value": pl.Float64, "klass": pl.Utf8,
           "reason": pl.Utf8, "note": pl.Utf8, "edit": pl.Utf8}


def _plan_row(plan: PlanRun, sku: str, location: str) -> dict[str, Any] | None:
    rows = plan.frame.filter((pl.col("sku") == sku) & (pl.col("location") == location))
    return rows.row(0, named=True) if rows.height else None


def _upsert_edit(uow: UnitOfWork, actor: Actor, run_id: str, sku: str, location: str,
                 supplier: str, action: str, quantity: int | None, note: str | None) -> None:
    values = {"plan_run_id": run_id, "sku": sku, "location": location, "supplier": supplier,
              "action": action, "quantity": quantity, "note": note,
              "edited_by": audit.who(actor), "edited_at": datetime.now(UTC)}
    ins = dialect_insert(uow.conn, to.suggestion_edits).values(**values)
    uow.conn.execute(ins.on_conflict_do_update(
        index_elements=["plan_run_id", "sku", "location"],
        set_={k: v for k, v in values.items() if k not in ("plan_run_id", "sku", "location")}))
    audit.record(uow, actor, f"suggestion.{action}", sku=sku, location=location,
                 plan_run_id=run_id, supplier=supplier, quantity=quantity, note=note)


def _check(uow: UnitOfWork, actor: Actor, plan: PlanRun, sku: str, location: str) -> None:
    require(actor, "planner")
    check_locations(actor, [location], what="suggestion")
    taken = uow.conn.execute(select(ts.plan_approvals.c.po_id).where(
        ts.plan_approvals.c.plan_run_id == plan.run_id, ts.plan_approvals.c.sku == sku,
        ts.plan_approvals.c.location == location)).scalar()
    if taken is not None:
        raise StockpilotError(f"{sku}@{location} is already on purchase order {taken}")


def set_quantity(uow: UnitOfWork, actor: Actor, plan: PlanRun, sku: str, location: str,
                 quantity: int, note: str | None = None) -> None:
    """Order ``quantity`` units of a suggested line instead of the plan's quantity."""
    _check(uow, actor, plan, sku, location)
    if type(quantity) is not int or quantity <= 0:
        raise StockpilotError(f"{sku}@{location}: quantity must be a positive integer, "
                              f"got {quantity!r} (drop the line to order nothing)")
    row = _plan_row(plan, sku, location)
    edit = _edit_of(uow, plan.run_id, sku, location)
    if row is None and edit is None:
        raise NotFound(f"no suggestion for {sku}@{location} in plan {plan.run_id}")
    supplier = row["supplier"] if row else edit["supplier"]  # type: ignore[index]
    action = "add" if edit is not None and edit["action"] == "add" else "quantity"
    _upsert_edit(uow, actor, plan.run_id, sku, location, supplier, action, quantity, note)


def drop(uow: UnitOfWork, actor: Actor, plan: PlanRun, sku: str, location: str,
         note: str | None = None) -> None:
    """Leave a line out of this plan's orders."""
    _check(uow, actor, plan, sku, location)
    row = _plan_row(plan, sku, location)
    if row is None:
        edit = _edit_of(uow, plan.run_id, sku, location)
        if edit is None:
            raise NotFound(f"no suggestion for {sku}@{location} in plan {plan.run_id}")
        uow.conn.execute(delete(to.suggestion_edits).where(
            E.plan_run_id == plan.run_id, E.sku == sku, E.location == location))
        audit.record(uow, actor, "suggestion.drop", sku=sku, location=location,
                     plan_run_id=plan.run_id, note=note)
        return
    _upsert_edit(uow, actor, plan.run_id, sku, location, row["supplier"], "drop", None, note)


def order_once(uow: UnitOfWork, actor: Actor, plan: PlanRun, sku: str, location: str,
               quantity: int, note: str | None = None, supplier: str | None = None) -> None:
    """Add a SKU the plan does not suggest (from its plan supplier, else its primary one)."""
    _check(uow, actor, plan, sku, location)
    if type(quantity) is not int or quantity <= 0:
        raise StockpilotError(f"{sku}@{location}: quantity must be a positive integer")
    if uow.conn.execute(select(t.skus.c.sku).where(t.skus.c.sku == sku)).first() is None:
        raise NotFound(f"unknown SKU {sku!r}")
    if uow.conn.execute(select(t.locations.c.location).where(
            t.locations.c.location == location)).first() is None:
        raise NotFound(f"unknown location {location!r}")
    row = _plan_row(plan, sku, location)
    supplier = supplier or (row["supplier"] if row else primary_supplier(uow.conn, sku))
    _upsert_edit(uow, actor, plan.run_id, sku, location, supplier, "add", quantity, note)


def snooze(uow: UnitOfWork, actor: Actor, sku: str, location: str, until: date,
           note: str | None = None) -> None:
    """Hide a line from the suggestions until ``until`` (inclusive), in every plan."""
    require(actor, "planner")
    check_locations(actor, [location], what="suggestion")
    if until < datetime.now(UTC).date():
        raise StockpilotError(f"{sku}@{location}: snooze date {until} is in the past")
    values = {"until": until, "note": note, "snoozed_by": audit.who(actor),
              "snoozed_at": datetime.now(UTC)}
    ins = dialect_insert(uow.conn, to.suggestion_snoozes).values(sku=sku, location=location,
                                                                 **values)
    uow.conn.execute(ins.on_conflict_do_update(index_elements=["sku", "location"], set_=values))
    audit.record(uow, actor, "suggestion.snooze", sku=sku, location=location,
                 until=until.isoformat(), note=note)


def restore(uow: UnitOfWork, actor: Actor, plan: PlanRun, sku: str, location: str) -> None:
    """Undo this plan's edit of a line and its snooze: the plan's suggestion again."""
    _check(uow, actor, plan, sku, location)
    uow.conn.execute(delete(to.suggestion_edits).where(
        E.plan_run_id == plan.run_id, E.sku == sku, E.location == location))
    uow.conn.execute(delete(to.suggestion_snoozes).where(S.sku == sku, S.location == location))
    audit.record(uow, actor, "suggestion.restore", sku=sku, location=location,
                 plan_run_id=plan.run_id)


def _edit_of(uow: UnitOfWork, run_id: str, sku: str, location: str) -> dict[str, Any] | None:
    row = uow.conn.execute(select(to.suggestion_edits).where(
        E.plan_run_id == run_id, E.sku == sku, E.location == location)).first()
    return dict(row._mapping) if row else None


# --- what is shown and approved ------------------------------------------------------------

def _edits_frame(uow: UnitOfWork, run_id: str) -> pl.DataFrame:
    rows = uow.conn.execute(select(E.sku, E.location, E.supplier, E.action, E.quantity,
                                   E.note).where(E.plan_run_id == run_id)).all()
    return pl.DataFrame(rows, orient="row", schema={
        "sku": pl.Utf8, "location": pl.Utf8, "e_supplier": pl.Utf8, "edit": pl.Utf8,
        "e_qty": pl.Int64, "note": pl.Utf8})


def _snoozed(uow: UnitOfWork, today: date) -> pl.DataFrame:
    rows = uow.conn.execute(select(S.sku, S.location, S.until).where(S.until >= today)).all()
    return pl.DataFrame(rows, orient="row", schema={"sku": pl.Utf8, "location": pl.Utf8,
                                                    "snoozed_until": pl.Date})


def effective_lines(uow: UnitOfWork, actor: Actor, plan: PlanRun,
                    today: date | None = None) -> pl.DataFrame:
    """The lines to order: the plan's due lines at the actor's locations, edits applied.

    Columns :data:`COLUMNS` plus ``po_id`` (the order already holding the line under this
    plan, else null). Dropped and snoozed lines are left out; "order once" lines are added.
    """
    today = today or datetime.now(UTC).date()
    base = purchasing.due_lines(plan, actor)
    base = base.with_columns(pl.col("order_qty").cast(pl.Int64).alias("suggested_qty"),
                             pl.col("order_qty").cast(pl.Int64),
                             *[pl.lit(None, dtype=d).alias(c) for c, d in
                               (("klass", pl.Utf8), ("reason", pl.Utf8),
                                ("order_value", pl.Float64)) if c not in base.columns])
    base = base.select("sku", "location", "supplier", "order_qty", "suggested_qty",
                       pl.col("order_value").cast(pl.Float64), pl.col("klass").cast(pl.Utf8),
                       pl.col("reason").cast(pl.Utf8))
    edits = _edits_frame(uow, plan.run_id)
    if actor.locations is not None:
        edits = edits.filter(pl.col("location").is_in(actor.scope() or []))
    out = base.join(edits, on=["sku", "location"], how="left")
    unit = pl.col("order_value") / pl.col("suggested_qty")
    out = out.filter(pl.col("edit").is_null() | (pl.col("edit") != "drop")).with_columns(
        pl.coalesce("e_qty", "order_qty").alias("order_qty"),
        pl.when(pl.col("e_qty").is_not_null()).then(pl.col("e_qty") * unit)
        .otherwise(pl.col("order_value")).alias("order_value"))
    added = _added(uow, edits.filter(pl.col("edit") == "add")
                   .join(base, on=["sku", "location"], how="anti"))
    # a snoozed line stays hidden unless someone ordered it once since
    out = out.select(list(COLUMNS)).join(_snoozed(uow, today), on=["sku", "location"],
                                         how="anti")
    out = pl.concat([out, added.select(list(COLUMNS))])
    return out.join(_approved_frame(uow, plan.run_id), on=["sku", "location"], how="left")


def _added(uow: UnitOfWork, adds: pl.DataFrame) -> pl.DataFrame:
    """"Order once" lines, valued at their supplier's unit cost."""
    rows = []
    for r in adds.iter_rows(named=True):
        cost = terms_of(uow.conn, r["e_supplier"], [r["sku"]]).get(r["sku"])
        value = cost.unit_cost * r["e_qty"] if cost and cost.unit_cost is not None else None
        rows.append({"sku": r["sku"], "location": r["location"], "supplier": r["e_supplier"],
                     "order_qty": r["e_qty"], "suggested_qty": 0, "order_value": value,
                     "klass": None, "reason": "ordered once (not suggested)",
                     "note": r["note"], "edit": "add"})
    return pl.DataFrame(rows, schema=COLUMNS)


def _approved_frame(uow: UnitOfWork, run_id: str) -> pl.DataFrame:
    ap = ts.plan_approvals.c
    rows = uow.conn.execute(select(ap.sku, ap.location, ap.po_id)
                            .where(ap.plan_run_id == run_id)).all()
    return pl.DataFrame(rows, orient="row", schema={"sku": pl.Utf8, "location": pl.Utf8,
                                                    "po_id": pl.Int64})


def approve(uow: UnitOfWork, actor: Actor, plan: PlanRun, *,
            suppliers: Sequence[str] | None = None,
            lines: Sequence[tuple[str, str]] | None = None,
            currency: str = purchasing.DEFAULT_CURRENCY, empty_ok: bool = False
            ) -> purchasing.Approval:
    """Order the selected lines (``(sku, location)`` pairs) or whole suppliers, as edited.

    Lines already on an order under this plan are answered with that order, never ordered
    twice. :class:`NotFound` when the selection holds no line to order (unless
    ``empty_ok``: then nothing happens).
    """
    require(actor, "planner")
    todo = effective_lines(uow, actor, plan)
    if suppliers:
        todo = todo.filter(pl.col("supplier").is_in(list(suppliers)))
    if lines is not None:
        wanted = pl.DataFrame([{"sku": s, "location": loc} for s, loc in lines],
                              schema={"sku": pl.Utf8, "location": pl.Utf8})
        todo = todo.join(wanted, on=["sku", "location"], how="semi")
    if todo.is_empty():
        if empty_ok:
            return purchasing.Approval(plan.run_id, [], [])
        raise NotFound("no suggestion to approve at your locations in that selection")
    return purchasing.approve_frame(uow, actor, plan.run_id, todo, currency=currency)
