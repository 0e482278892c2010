"""The catalogue: SKUs, locations, suppliers and their terms per SKU, read and written.

SKUs and suppliers are shared by every location: any actor reads them, a planner changes
them — but an actor limited to locations changes a SKU (or a supplier's terms for it, or a
supplier) only when every location stocking it is its own: a key limited to ONLINE must not
reprice a SKU stocked at STORE-1 (issue 17 item 5). Locations are scoped: an actor sees
only its own, and only an admin adds or changes one (a limited admin only one of its own).
Writes go through :mod:`stockpilot.ledger.catalogue` (its upserts keep stock rows in step,
e.g. ``allows_backorders``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, select, update

from stockpilot.errors import NotFound, StockpilotError
from stockpilot.ledger import catalogue as cat
from stockpilot.store import schema as t
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, check_locations, require
from stockpilot.usecases.paging import PageRequest, page_of


class AlreadyExists(StockpilotError):
    """A create named an id that is taken."""

    status = 409
    title = "Already exists"


@dataclass(frozen=True)
class Kind:
    """One kind of catalogue object: its table, key, listed columns, sort fields, writer."""

    what: str
    table: Table
    key: str
    columns: tuple[str, ...]
    sortable: tuple[str, ...]
    upsert: Callable[[Any, list[dict[str, Any]]], Any]
    writer_role: str
    scoped: bool = False

    def col(self, name: str) -> Column[Any]:
        """A column of the kind's table."""
        return self.table.c[name]

    @property
    def sort_columns(self) -> dict[str, Any]:
        """Sortable field → column."""
        return {n: self.table.c[n] for n in self.sortable}


SKU = Kind("SKU", t.skus, "sku", ("sku", "name", "category", "unit_cost", "price",
                                   "shelf_life_days", "lot_tracked", "created_at"),
           ("sku", "name", "category", "price"), cat.upsert_skus, "planner")
LOCATION = Kind("location", t.locations, "location",
                ("location", "name", "kind", "allows_backorders", "created_at"),
                ("location", "name", "kind"), cat.upsert_locations, "admin", scoped=True)
SUPPLIER = Kind("supplier", t.suppliers, "supplier", ("supplier", "name", "email",
                                                      "created_at"),
                ("supplier", "name"), cat.upsert_suppliers, "planner")
ITEM_SORT = {"sku": t.supplier_items.c.sku, "lead_time_days": t.supplier_items.c.lead_time_days}


def _select(kind: Kind) -> Any:
    return select(*[kind.col(c) for c in kind.columns])


def get(uow: UnitOfWork, actor: Actor, kind: Kind, value: str) -> dict[str, Any]:
    """One object (:class:`NotFound` when absent, or a location outside the scope)."""
    if kind.scoped:
        check_locations(actor, [value], what=kind.what)
    row = uow.conn.execute(_select(kind).where(kind.col(kind.key) == value)).first()
    if row is None:
        raise NotFound(f"no {kind.what} {value!r}")
    return dict(row._mapping)


def list_(uow: UnitOfWork, actor: Actor, of: Kind, page: PageRequest, **equals: Any
          ) -> tuple[list[dict[str, Any]], int]:
    """Objects (locations: the actor's only), filtered by equal columns: a page, the total."""
    stmt = _select(of)
    if of.scoped and actor.locations is not None:
        stmt = stmt.where(of.col(of.key).in_(actor.scope() or []))
    for name, value in equals.items():
        if value is not None:
            stmt = stmt.where(of.col(name) == value)
    return page_of(uow.conn, stmt, page, of.sort_columns)


def create(uow: UnitOfWork, actor: Actor, kind: Kind, row: dict[str, Any]) -> dict[str, Any]:
    """Add an object (:class:`AlreadyExists` when its id is taken); returns it."""
    require(actor, kind.writer_role)
    value = row[kind.key]
    if kind.scoped:
        check_locations(actor, [value], what=kind.what)
    if uow.conn.execute(select(kind.col(kind.key)).where(kind.col(kind.key) == value)).first():
        raise AlreadyExists(f"{kind.key} {value!r} already exists")
    kind.upsert(uow.conn, [row])
    return get(uow, actor, kind, value)


class OutsideScope(StockpilotError):
    """A shared object (SKU, supplier) is stocked at locations outside the actor's scope."""

    status = 403
    title = "Forbidden"


def _check_shared_write(uow: UnitOfWork, actor: Actor, skus: Any, what: str) -> None:
    """Refuse a write to ``what`` when any of ``skus`` is stocked outside the actor's scope.

    ``skus`` is a list of ids or a subquery of them. Unscoped actors write freely.
    """
    if actor.locations is None:
        return
    s = t.stock.c
    other = uow.conn.execute(
        select(s.location).where(s.sku.in_(skus), s.location.not_in(actor.scope() or []))
        .limit(1)).scalar()
    if other is not None:
        raise OutsideScope(f"{what} is stocked at locations outside the caller's scope; "
                           "only a caller with those locations can change it")


def _shared_skus(kind: Kind, value: str) -> Any:
    """The SKUs a write to a shared object touches (None: not a shared kind)."""
    if kind is SKU:
        return [value]
    if kind is SUPPLIER:
        c = t.supplier_items.c
        return select(c.sku).where(c.supplier == value)
    return None


def update_(uow: UnitOfWork, actor: Actor, kind: Kind, value: str, changes: dict[str, Any]
            ) -> dict[str, Any]:
    """Change some fields of an object; returns it afterwards."""
    require(actor, kind.writer_role)
    get(uow, actor, kind, value)
    skus = _shared_skus(kind, value)
    if skus is not None:
        _check_shared_write(uow, actor, skus, f"{kind.what} {value!r}")
    if kind.scoped:  # the upsert copies location flags onto its stock rows
        kind.upsert(uow.conn, [{kind.key: value, **changes}])
    elif changes:
        uow.conn.execute(update(kind.table).where(kind.col(kind.key) == value).values(changes))
    return get(uow, actor, kind, value)


def supplier_items(uow: UnitOfWork, actor: Actor, supplier: str, page: PageRequest
                   ) -> tuple[list[dict[str, Any]], int]:
    """A supplier's terms per SKU: one page and the total."""
    get(uow, actor, SUPPLIER, supplier)
    stmt = select(t.supplier_items).where(t.supplier_items.c.supplier == supplier)
    return page_of(uow.conn, stmt, page, ITEM_SORT)


def put_supplier_item(uow: UnitOfWork, actor: Actor, supplier: str, terms: dict[str, Any]
                      ) -> dict[str, Any]:
    """Set a supplier's terms for one SKU (replacing earlier ones); returns them."""
    require(actor, "planner")
    get(uow, actor, SUPPLIER, supplier)
    get(uow, actor, SKU, terms["sku"])
    _check_shared_write(uow, actor, [terms["sku"]], f"SKU {terms['sku']!r}")
    cat.upsert_supplier_items(uow.conn, [{"supplier": supplier, **terms}])
    c = t.supplier_items.c
    row = uow.conn.execute(select(t.supplier_items).where(
        c.supplier == supplier, c.sku == terms["sku"])).one()
    return dict(row._mapping)


def search_skus(uow: UnitOfWork, actor: Actor, text: str, limit: int = 20
                ) -> list[dict[str, Any]]:
    """SKUs whose id or name contains ``text`` (case-insensitive), by id."""
    s = t.skus.c
    like = f"%{text}%"
    rows = uow.conn.execute(select(s.sku, s.name).where(s.sku.ilike(like) | s.name.ilike(like))
                            .order_by(s.sku).limit(limit)).all()
    return [{"sku": r.sku, "name": r.name} for r in rows]


def sku_names(uow: UnitOfWork, actor: Actor) -> dict[str, str | None]:
    """Every SKU's name by id."""
    return {r.sku: r.name for r in uow.conn.execute(select(t.skus.c.sku, t.skus.c.name))}
