"""The catalogue: SKUs, locations, suppliers and their terms per SKU."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy import Connection, Table, select, update

from stockpilot.api.deps import (
    Admin,
    Ctx,
    Page,
    Paged,
    Planner,
    Viewer,
    page_request,
    scoped,
    sort_query,
    visible,
)
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Days, Ident, Ident32, In, Money, Out, Text, Text128, Units
from stockpilot.errors import NotFound, StockpilotError
from stockpilot.ledger import catalogue as cat
from stockpilot.store import schema as t
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.paging import page_of

router = APIRouter(tags=["catalogue"], responses={**COMMON, **WRITES})


class AlreadyExists(StockpilotError):
    """A create named an id that is taken."""

    status = 409
    title = "Already exists"


# --- SKUs ------------------------------------------------------------------------------------
class SkuCreate(In):
    """A new SKU."""

    sku: Ident
    name: Text = ""
    category: Text128 | None = None
    unit_cost: Money | None = None
    price: Money | None = None
    shelf_life_days: Annotated[Days, Field(ge=1)] | None = None
    lot_tracked: bool = False


class SkuUpdate(In):
    """Fields of a SKU to change (omitted ones stay; lot tracking is fixed at creation)."""

    name: Text | None = None
    category: Text128 | None = None
    unit_cost: Money | None = None
    price: Money | None = None
    shelf_life_days: Annotated[Days, Field(ge=1)] | None = None


class SkuPublic(Out):
    """A SKU."""

    sku: str
    name: str
    category: str | None
    unit_cost: float | None
    price: float | None
    shelf_life_days: int | None
    lot_tracked: bool
    created_at: datetime


S = t.skus.c
SKU_COLS = (S.sku, S.name, S.category, S.unit_cost, S.price, S.shelf_life_days, S.lot_tracked,
            S.created_at)
SKU_SORT = {"sku": S.sku, "name": S.name, "category": S.category, "price": S.price}
SkuSort = Annotated[str, sort_query(list(SKU_SORT), "sku")]


def _one(conn: Connection, cols: Any, key: Any, value: Any, what: str) -> dict[str, Any]:
    row = conn.execute(select(*cols).where(key == value)).first()
    if row is None:
        raise NotFound(f"no {what} {value!r}")
    return dict(row._mapping)


def _create(conn: Connection, table: Table, key: str, row: dict[str, Any],
            upsert: Any) -> None:
    if conn.execute(select(table.c[key]).where(table.c[key] == row[key])).first():
        raise AlreadyExists(f"{key} {row[key]!r} already exists")
    upsert(conn, [row])


def _patch(ctx: Any, table: Table, key: str, value: str, changes: dict[str, Any]) -> None:
    with UnitOfWork(ctx.engine) as uow:
        if not uow.conn.execute(select(table.c[key]).where(table.c[key] == value)).first():
            raise NotFound(f"no {key} {value!r}")
        if changes:
            uow.conn.execute(update(table).where(table.c[key] == value).values(changes))
        uow.commit()


@router.get("/skus")
def list_skus(who: Viewer, ctx: Ctx, page: Paged, category: str | None = None,
              sort: SkuSort = "sku") -> Page[SkuPublic]:
    """The catalogue (filter by category)."""
    del who
    stmt = select(*SKU_COLS)
    if category is not None:
        stmt = stmt.where(S.category == category)
    with ctx.read() as conn:
        rows, total = page_of(conn, stmt, page_request(page, sort), SKU_SORT)
    return Page(items=[SkuPublic(**r) for r in rows], limit=page.limit, offset=page.offset,
                total=total)


@router.post("/skus", status_code=201)
def create_sku(body: SkuCreate, who: Planner, idem: Idem) -> SkuPublic:
    """Add a SKU (409 when the id is taken)."""
    del who

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        conn = uow.conn
        _create(conn, t.skus, "sku", body.model_dump(), cat.upsert_skus)
        return 201, SkuPublic(**_one(conn, SKU_COLS, S.sku, body.sku, "SKU"))

    return idem.run(body, effect)  # type: ignore[return-value]


@router.get("/skus/{sku}")
def get_sku(sku: str, who: Viewer, ctx: Ctx) -> SkuPublic:
    """One SKU."""
    del who
    with ctx.read() as conn:
        return SkuPublic(**_one(conn, SKU_COLS, S.sku, sku, "SKU"))


@router.patch("/skus/{sku}")
def update_sku(sku: str, body: SkuUpdate, who: Planner, ctx: Ctx) -> SkuPublic:
    """Change some fields of a SKU."""
    del who
    _patch(ctx, t.skus, "sku", sku, body.model_dump(exclude_unset=True))
    with ctx.read() as conn:
        return SkuPublic(**_one(conn, SKU_COLS, S.sku, sku, "SKU"))


# --- locations -------------------------------------------------------------------------------
class LocationCreate(In):
    """A new location."""

    location: Ident
    name: Text = ""
    kind: Ident32 = "warehouse"
    allows_backorders: bool = False


class LocationUpdate(In):
    """Fields of a location to change."""

    name: Text | None = None
    kind: Ident32 | None = None
    allows_backorders: bool | None = None


class LocationPublic(Out):
    """A location."""

    location: str
    name: str
    kind: str
    allows_backorders: bool
    created_at: datetime


L = t.locations.c
LOC_COLS = (L.location, L.name, L.kind, L.allows_backorders, L.created_at)
LOC_SORT = {"location": L.location, "name": L.name, "kind": L.kind}
LocSort = Annotated[str, sort_query(list(LOC_SORT), "location")]


@router.get("/locations")
def list_locations(who: Viewer, ctx: Ctx, page: Paged, kind: str | None = None,
                   sort: LocSort = "location"
                   ) -> Page[LocationPublic]:
    """The locations the key may see."""
    stmt = scoped(select(*LOC_COLS), who, L.location)
    if kind is not None:
        stmt = stmt.where(L.kind == kind)
    with ctx.read() as conn:
        rows, total = page_of(conn, stmt, page_request(page, sort), LOC_SORT)
    return Page(items=[LocationPublic(**r) for r in rows], limit=page.limit,
                offset=page.offset, total=total)


@router.post("/locations", status_code=201)
def create_location(body: LocationCreate, who: Admin, idem: Idem) -> LocationPublic:
    """Add a location (a key limited to locations may only add one of its own)."""
    visible(who, body.location, what="location")

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        conn = uow.conn
        _create(conn, t.locations, "location", body.model_dump(), cat.upsert_locations)
        return 201, LocationPublic(**_one(conn, LOC_COLS, L.location, body.location,
                                          "location"))

    return idem.run(body, effect)  # type: ignore[return-value]


@router.get("/locations/{location}")
def get_location(location: str, who: Viewer, ctx: Ctx) -> LocationPublic:
    """One location (404 outside the key's locations)."""
    visible(who, location, what="location")
    with ctx.read() as conn:
        return LocationPublic(**_one(conn, LOC_COLS, L.location, location, "location"))


@router.patch("/locations/{location}")
def update_location(location: str, body: LocationUpdate, who: Admin, ctx: Ctx
                    ) -> LocationPublic:
    """Change a location (``allows_backorders`` is copied onto its stock rows)."""
    visible(who, location, what="location")
    changes = body.model_dump(exclude_unset=True)
    with UnitOfWork(ctx.engine) as uow:
        _one(uow.conn, LOC_COLS, L.location, location, "location")
        cat.upsert_locations(uow.conn, [{"location": location, **changes}])
        uow.commit()
    with ctx.read() as conn:
        return LocationPublic(**_one(conn, LOC_COLS, L.location, location, "location"))


# --- suppliers -------------------------------------------------------------------------------
class SupplierCreate(In):
    """A new supplier."""

    supplier: Ident
    name: Text = ""
    email: Text | None = None


class SupplierUpdate(In):
    """Fields of a supplier to change."""

    name: Text | None = None
    email: Text | None = None


class SupplierPublic(Out):
    """A supplier."""

    supplier: str
    name: str
    email: str | None
    created_at: datetime


class SupplierItemCreate(In):
    """A supplier's terms for one SKU (replaces earlier terms for it)."""

    sku: Ident
    lead_time_days: Days
    moq: Units = 1
    pack_size: Units = 1
    order_cost: Money = 0.0
    unit_cost: Money | None = None
    is_primary: bool = True


class SupplierItemPublic(Out):
    """A supplier's terms for one SKU."""

    supplier: str
    sku: str
    lead_time_days: int
    moq: int
    pack_size: int
    order_cost: float
    unit_cost: float | None
    is_primary: bool


P = t.suppliers.c
SUP_COLS = (P.supplier, P.name, P.email, P.created_at)
SUP_SORT = {"supplier": P.supplier, "name": P.name}
SupSort = Annotated[str, sort_query(list(SUP_SORT), "supplier")]
I = t.supplier_items.c  # noqa: E741
ITEM_SORT = {"sku": I.sku, "lead_time_days": I.lead_time_days}
ItemSort = Annotated[str, sort_query(list(ITEM_SORT), "sku")]


@router.get("/suppliers")
def list_suppliers(who: Viewer, ctx: Ctx, page: Paged,
                   sort: SupSort = "supplier"
                   ) -> Page[SupplierPublic]:
    """Suppliers."""
    del who
    with ctx.read() as conn:
        rows, total = page_of(conn, select(*SUP_COLS), page_request(page, sort), SUP_SORT)
    return Page(items=[SupplierPublic(**r) for r in rows], limit=page.limit,
                offset=page.offset, total=total)


@router.post("/suppliers", status_code=201)
def create_supplier(body: SupplierCreate, who: Planner, idem: Idem) -> SupplierPublic:
    """Add a supplier (409 when the id is taken)."""
    del who

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        conn = uow.conn
        _create(conn, t.suppliers, "supplier", body.model_dump(), cat.upsert_suppliers)
        return 201, SupplierPublic(**_one(conn, SUP_COLS, P.supplier, body.supplier,
                                          "supplier"))

    return idem.run(body, effect)  # type: ignore[return-value]


@router.get("/suppliers/{supplier}")
def get_supplier(supplier: str, who: Viewer, ctx: Ctx) -> SupplierPublic:
    """One supplier."""
    del who
    with ctx.read() as conn:
        return SupplierPublic(**_one(conn, SUP_COLS, P.supplier, supplier, "supplier"))


@router.patch("/suppliers/{supplier}")
def update_supplier(supplier: str, body: SupplierUpdate, who: Planner, ctx: Ctx
                    ) -> SupplierPublic:
    """Change a supplier's name or email."""
    del who
    _patch(ctx, t.suppliers, "supplier", supplier, body.model_dump(exclude_unset=True))
    with ctx.read() as conn:
        return SupplierPublic(**_one(conn, SUP_COLS, P.supplier, supplier, "supplier"))


@router.get("/suppliers/{supplier}/items")
def list_supplier_items(supplier: str, who: Viewer, ctx: Ctx, page: Paged,
                        sort: ItemSort = "sku"
                        ) -> Page[SupplierItemPublic]:
    """A supplier's terms per SKU (lead time, MOQ, pack size, costs)."""
    del who
    with ctx.read() as conn:
        _one(conn, SUP_COLS, P.supplier, supplier, "supplier")
        stmt = select(t.supplier_items).where(I.supplier == supplier)
        rows, total = page_of(conn, stmt, page_request(page, sort), ITEM_SORT)
    return Page(items=[SupplierItemPublic(**r) for r in rows], limit=page.limit,
                offset=page.offset, total=total)


@router.post("/suppliers/{supplier}/items", status_code=201)
def put_supplier_item(supplier: str, body: SupplierItemCreate, who: Planner, idem: Idem
                      ) -> SupplierItemPublic:
    """Set a supplier's terms for one SKU."""
    del who

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        conn = uow.conn
        _one(conn, SUP_COLS, P.supplier, supplier, "supplier")
        _one(conn, (S.sku,), S.sku, body.sku, "SKU")
        cat.upsert_supplier_items(conn, [{"supplier": supplier, **body.model_dump()}])
        row = conn.execute(select(t.supplier_items).where(
            I.supplier == supplier, I.sku == body.sku)).one()
        return 201, SupplierItemPublic(**row._mapping)

    return idem.run(body, effect)  # type: ignore[return-value]
