"""Vendor-managed inventory: what a supplier sees, what it proposes, how the shop decides.

A supplier (:class:`~stockpilot.usecases.vmi_auth.SupplierScope`) sees stock, forecasts and
the plan of **its own items only** (the SKUs it supplies in ``supplier_items``); anything else
answers "not found", as if it did not exist. It proposes a replenishment as an advance
shipping notice (ASN). An ASN whose every line brings the SKU-location's inventory position
(on hand + on order − reserved) within the bounds agreed in ``vmi_bounds`` (min ≤ position +
units ≤ max) is approved at once;
otherwise it waits for the shop, who approves it (into a purchase order) or rejects it. Each
step writes a ``vmi_audit`` row in the same transaction as its effect.

Every function takes an open :class:`~stockpilot.store.uow.UnitOfWork` (the caller commits):
the supplier's side a :class:`SupplierScope`, the shop's side an
:class:`~stockpilot.usecases.actor.Actor`, who sees only ASNs and audit rows whose every
location is theirs (anything else answers "not found").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, insert, select, update

from stockpilot.domain.series import split_unique_id
from stockpilot.errors import NotFound, StockpilotError
from stockpilot.ledger.purchasing import OrderLine, create_purchase_order
from stockpilot.store import schema as t
from stockpilot.store import schema_vmi as tv
from stockpilot.store.db import dialect_insert
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, check_locations, require
from stockpilot.usecases.vmi_auth import SupplierScope


@dataclass(frozen=True)
class AsnLine:
    """One line of an ASN: units of a SKU for a location."""

    sku: str
    location: str
    quantity: int


@dataclass(frozen=True)
class AsnResult:
    """What became of an ASN: its status, why, and the purchase order if approved."""

    asn_id: int
    status: str
    auto_approved: bool
    po_id: int | None
    reasons: tuple[str, ...]


def items_of(conn: Connection, supplier: str) -> set[str]:
    """The SKUs ``supplier`` supplies."""
    si = t.supplier_items.c
    return set(conn.execute(select(si.sku).where(si.supplier == supplier)).scalars())


def _audit(conn: Connection, actor: str, supplier: str, action: str, asn_id: int | None,
           detail: dict[str, Any]) -> None:
    conn.execute(insert(tv.vmi_audit).values(at=datetime.now(UTC), actor=actor,
                                             supplier=supplier, action=action, asn_id=asn_id,
                                             detail=detail))


def supplier_stock(uow: UnitOfWork, scope: SupplierScope) -> list[dict[str, Any]]:
    """Stock rows of the supplier's items: sku, location, on_hand, on_order, reserved."""
    s = t.stock.c
    skus = sorted(items_of(uow.conn, scope.supplier))
    rows = uow.conn.execute(select(s.sku, s.location, s.on_hand, s.on_order, s.reserved)
                            .where(s.sku.in_(skus)).order_by(s.sku, s.location)).mappings()
    return [dict(r) for r in rows]


def _own_rows(uow: UnitOfWork, history: HistoryStore, dataset: str, scope: SupplierScope
              ) -> pl.DataFrame | None:
    if "latest" not in history.parts(dataset):
        return None
    skus = sorted(items_of(uow.conn, scope.supplier))
    df = history.read(dataset, "latest")
    return df.filter(split_unique_id()[0].is_in(skus))


def supplier_forecasts(uow: UnitOfWork, history: HistoryStore, scope: SupplierScope
                       ) -> list[dict[str, Any]]:
    """The latest forecast of the supplier's items, summed per series over its horizon."""
    df = _own_rows(uow, history, "forecasts", scope)
    if df is None or df.is_empty():
        return []
    cols = [c for c in ("mean", "q0.5", "q0.05", "q0.95", "q0.025", "q0.975") if c in df.columns]
    return df.group_by("unique_id").agg(pl.col("ds").min().alias("from"),
                                        pl.col("ds").max().alias("to"),
                                        *[pl.col(c).sum() for c in cols]) \
        .sort("unique_id").to_dicts()


def supplier_plan(uow: UnitOfWork, history: HistoryStore, scope: SupplierScope
                  ) -> list[dict[str, Any]]:
    """The latest plan's rows of the supplier's items (order-up-to, order, reason, …)."""
    df = _own_rows(uow, history, "plans", scope)
    return [] if df is None else df.sort("unique_id").to_dicts()


def _label(actor: Actor, by: str | None) -> str:
    """Who the audit row names: ``by`` when the edge says (``key:7``), else the actor."""
    return by or actor.name or actor.role


def set_bounds(uow: UnitOfWork, actor: Actor, supplier: str, sku: str, location: str,
               min_units: int, max_units: int, *, by: str | None = None) -> None:
    """Agree (or change) the auto-approval bounds of one SKU-location with a supplier.

    Needs the planner role and ``location`` among the actor's (else "no such location").
    """
    require(actor, "planner")
    check_locations(actor, [location], "location")
    if not 0 <= min_units <= max_units:
        raise StockpilotError(f"{sku}@{location}: need 0 <= min ({min_units}) <= max "
                              f"({max_units})")
    if sku not in items_of(uow.conn, supplier):
        raise NotFound(f"supplier {supplier!r} does not supply SKU {sku!r}")
    stmt = dialect_insert(uow.conn, tv.vmi_bounds)
    uow.conn.execute(stmt.on_conflict_do_update(
        index_elements=["supplier", "sku", "location"],
        set_={"min_units": stmt.excluded.min_units, "max_units": stmt.excluded.max_units}),
        [{"supplier": supplier, "sku": sku, "location": location, "min_units": min_units,
          "max_units": max_units}])
    _audit(uow.conn, _label(actor, by), supplier, "bounds_set", None,
           {"sku": sku, "location": location, "min_units": min_units, "max_units": max_units})


def _check_lines(conn: Connection, scope: SupplierScope, lines: Sequence[AsnLine]) -> None:
    if not lines:
        raise StockpilotError("an ASN needs at least one line")
    own = items_of(conn, scope.supplier)
    for ln in lines:
        if ln.sku not in own:  # another supplier's item, or none: it does not exist for them
            raise NotFound(f"no such SKU {ln.sku!r}")
        if type(ln.quantity) is not int or ln.quantity <= 0:
            raise StockpilotError(f"{ln.sku}@{ln.location}: quantity must be a positive "
                                  f"integer, got {ln.quantity!r}")
    locs = {ln.location for ln in lines}
    known = set(conn.execute(select(t.locations.c.location)
                             .where(t.locations.c.location.in_(sorted(locs)))).scalars())
    if locs - known:
        raise NotFound(f"no such location {sorted(locs - known)[0]!r}")


def _within_bounds(conn: Connection, supplier: str, lines: Sequence[AsnLine]
                   ) -> tuple[bool, list[str]]:
    """Whether every line keeps its position within the agreed bounds, with the arithmetic."""
    ok, reasons = True, []
    b, s = tv.vmi_bounds.c, t.stock.c
    for ln in lines:
        bound = conn.execute(select(b.min_units, b.max_units).where(
            b.supplier == supplier, b.sku == ln.sku, b.location == ln.location)).first()
        pos = conn.execute(select(s.on_hand + s.on_order - s.reserved).where(
            s.sku == ln.sku, s.location == ln.location)).scalar() or 0
        after = int(pos) + ln.quantity
        if bound is None:
            ok = False
            reasons.append(f"{ln.sku}@{ln.location}: no agreed bounds; the shop decides")
        elif after > bound.max_units:
            ok = False
            reasons.append(f"{ln.sku}@{ln.location}: position {pos} + {ln.quantity} = {after} "
                           f"> max {bound.max_units}; the shop decides")
        elif after < bound.min_units:
            ok = False
            reasons.append(f"{ln.sku}@{ln.location}: position {pos} + {ln.quantity} = {after} "
                           f"< min {bound.min_units}; the shop decides")
        else:
            reasons.append(f"{ln.sku}@{ln.location}: position {pos} + {ln.quantity} = {after} "
                           f"within [{bound.min_units}, {bound.max_units}]")
    return ok, reasons


def _replay(conn: Connection, supplier: str, key: str) -> AsnResult | None:
    a = tv.asns.c
    row = conn.execute(select(a.id, a.status, a.auto_approved, a.po_id).where(
        a.supplier == supplier, a.idempotency_key == key)).first()
    if row is None:
        return None
    au = tv.vmi_audit.c
    detail = conn.execute(select(au.detail).where(au.asn_id == row.id,
                                                  au.action == "asn_proposed")).scalar()
    return AsnResult(int(row.id), row.status, bool(row.auto_approved), row.po_id,
                     tuple((detail or {}).get("reasons", ())))


def propose_asn(uow: UnitOfWork, scope: SupplierScope, lines: Sequence[AsnLine], *,
                expected_at: date | None = None, note: str | None = None,
                idempotency_key: str | None = None) -> AsnResult:
    """Record a supplier's ASN; auto-approve it into a purchase order within the bounds.

    With an ``idempotency_key`` the supplier already used, returns that ASN as it is now
    (nothing new is written).
    """
    conn = uow.conn
    if idempotency_key is not None:
        seen = _replay(conn, scope.supplier, idempotency_key)
        if seen is not None:
            return seen
    _check_lines(conn, scope, lines)
    auto, reasons = _within_bounds(conn, scope.supplier, lines)
    asn_id = int(conn.execute(insert(tv.asns).values(
        supplier=scope.supplier, status="pending", auto_approved=False,
        expected_at=expected_at, note=note, created_by=scope.name, created_at=datetime.now(UTC),
        idempotency_key=idempotency_key)).inserted_primary_key[0])  # type: ignore[index]
    conn.execute(insert(tv.asn_lines), [
        {"asn_id": asn_id, "line_no": i + 1, "sku": ln.sku, "location": ln.location,
         "quantity": ln.quantity} for i, ln in enumerate(lines)])
    _audit(conn, scope.name, scope.supplier, "asn_proposed", asn_id,
           {"lines": [vars(ln) for ln in lines], "reasons": reasons})
    po_id = _approve(conn, asn_id, "auto (within agreed bounds)", auto=True) if auto else None
    return AsnResult(asn_id, "approved" if auto else "pending", auto, po_id, tuple(reasons))


def _approve(conn: Connection, asn_id: int, actor: str, *, auto: bool) -> int:
    asn = conn.execute(select(tv.asns).where(tv.asns.c.id == asn_id)).mappings().one()
    lines = conn.execute(select(tv.asn_lines).where(tv.asn_lines.c.asn_id == asn_id)
                         .order_by(tv.asn_lines.c.line_no)).mappings().all()
    po_id, _ = create_purchase_order(
        conn, asn["supplier"], [OrderLine(r["sku"], r["location"], r["quantity"]) for r in lines],
        reference=f"ASN-{asn_id}", expected_at=asn["expected_at"])
    conn.execute(update(tv.asns).where(tv.asns.c.id == asn_id).values(
        status="approved", auto_approved=auto, decided_by=actor, decided_at=datetime.now(UTC),
        po_id=po_id))
    _audit(conn, actor, asn["supplier"], "asn_auto_approved" if auto else "asn_approved",
           asn_id, {"po_id": po_id})
    return po_id


def decide_asn(uow: UnitOfWork, actor: Actor, asn_id: int, approve: bool, *,
               by: str | None = None) -> AsnResult:
    """The shop approves a pending ASN (into a purchase order) or rejects it.

    Needs the planner role; an ASN with a line outside the actor's locations is "not found".
    """
    require(actor, "planner")
    row = uow.conn.execute(select(tv.asns.c.supplier, tv.asns.c.status)
                           .where(tv.asns.c.id == asn_id)).first()
    if row is None or not all(actor.sees(loc) for loc in _asn_locations(uow, asn_id)):
        raise NotFound(f"no ASN {asn_id}")
    if row.status != "pending":
        raise StockpilotError(f"ASN {asn_id} is already {row.status}")
    label, po_id = _label(actor, by), None
    if approve:
        po_id = _approve(uow.conn, asn_id, label, auto=False)
    else:
        uow.conn.execute(update(tv.asns).where(tv.asns.c.id == asn_id).values(
            status="rejected", decided_by=label, decided_at=datetime.now(UTC)))
        _audit(uow.conn, label, row.supplier, "asn_rejected", asn_id, {})
    return AsnResult(asn_id, "approved" if approve else "rejected", False, po_id, ())


def _asns(uow: UnitOfWork, supplier: str | None, status: str | None) -> list[dict[str, Any]]:
    a, ln = tv.asns.c, tv.asn_lines.c
    stmt = select(tv.asns).order_by(a.id.desc())
    if supplier is not None:
        stmt = stmt.where(a.supplier == supplier)
    if status is not None:
        stmt = stmt.where(a.status == status)
    out = [dict(r) for r in uow.conn.execute(stmt).mappings()]
    lines = uow.conn.execute(select(tv.asn_lines).where(ln.asn_id.in_([r["id"] for r in out]))
                             .order_by(ln.asn_id, ln.line_no)).mappings().all()
    by: dict[int, list[dict[str, Any]]] = {}
    for r in lines:
        by.setdefault(r["asn_id"], []).append({"sku": r["sku"], "location": r["location"],
                                               "quantity": r["quantity"]})
    return [{**r, "lines": by.get(r["id"], [])} for r in out]


def supplier_asns(uow: UnitOfWork, scope: SupplierScope) -> list[dict[str, Any]]:
    """The supplier's own ASNs with their lines, newest first."""
    return _asns(uow, scope.supplier, None)


def list_asns(uow: UnitOfWork, actor: Actor, supplier: str | None = None,
              status: str | None = None) -> list[dict[str, Any]]:
    """ASNs with their lines, newest first (one supplier's, or all), at the actor's locations.

    An ASN with a line elsewhere is left out.
    """
    return [r for r in _asns(uow, supplier, status)
            if all(actor.sees(ln["location"]) for ln in r["lines"])]


def _asn_locations(uow: UnitOfWork, asn_id: int) -> set[str]:
    """Locations an ASN's lines are for (empty when there is no such ASN)."""
    ln = tv.asn_lines.c
    return set(uow.conn.execute(select(ln.location).where(ln.asn_id == asn_id)).scalars())


def detail_locations(detail: dict[str, Any]) -> set[str]:
    """Locations an audit row's detail names (its lines', or its own)."""
    found = {ln["location"] for ln in detail.get("lines", []) if "location" in ln}
    return found | ({detail["location"]} if "location" in detail else set())


def audit_trail(uow: UnitOfWork, actor: Actor, supplier: str | None = None
                ) -> list[dict[str, Any]]:
    """The VMI audit rows, oldest first (one supplier's, or all).

    Only rows whose every named location is the actor's.
    """
    au = tv.vmi_audit.c
    stmt = select(tv.vmi_audit).order_by(au.id)
    if supplier is not None:
        stmt = stmt.where(au.supplier == supplier)
    rows = [dict(r) for r in uow.conn.execute(stmt).mappings()]
    return [r for r in rows if all(actor.sees(loc) for loc in detail_locations(r["detail"]))]
