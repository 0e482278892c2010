"""The catalogue: SKUs, locations, suppliers and their terms per SKU."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from stockpilot.api.deps import (
    Admin,
    Ctx,
    Page,
    Paged,
    Planner,
    Viewer,
    page_request,
    sort_query,
    visible,
)
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Days, Ident, Ident32, In, Money, Out, Text, Text128, Units
from stockpilot.store.uow import UnitOfWork, writing
from stockpilot.usecases import catalogue as cat
from stockpilot.usecases.catalogue import AlreadyExists

__all__ = ["AlreadyExists", "router"]

router = APIRouter(tags=["catalogue"], responses={**COMMON, **WRITES})


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


SKU_SORT = cat.SKU.sort_columns
SkuSort = Annotated[str, sort_query(list(SKU_SORT), "sku")]


@router.get("/skus")
def list_skus(who: Viewer, ctx: Ctx, page: Paged, category: str | None = None,
              sort: SkuSort = "sku") -> Page[SkuPublic]:
    """The catalogue (filter by category)."""
    with ctx.uow() as uow:
        rows, total = cat.list_(uow, who, cat.SKU, page_request(page, sort), category=category)
    return Page(items=[SkuPublic(**r) for r in rows], limit=page.limit, offset=page.offset,
                total=total)


@router.post("/skus", status_code=201)
def create_sku(body: SkuCreate, who: Planner, idem: Idem) -> SkuPublic:
    """Add a SKU (409 when the id is taken)."""

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        return 201, SkuPublic(**cat.create(uow, who, cat.SKU, body.model_dump()))

    return idem.run(body, effect)  # type: ignore[return-value]


@router.get("/skus/{sku}")
def get_sku(sku: str, who: Viewer, ctx: Ctx) -> SkuPublic:
    """One SKU."""
    with ctx.uow() as uow:
        return SkuPublic(**cat.get(uow, who, cat.SKU, sku))


@router.patch("/skus/{sku}")
def update_sku(sku: str, body: SkuUpdate, who: Planner, ctx: Ctx) -> SkuPublic:
    """Change some fields of a SKU."""
    with writing(ctx.engine) as uow:
        return SkuPublic(**cat.update_(uow, who, cat.SKU, sku,
                                       body.model_dump(exclude_unset=True)))


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


LOC_SORT = cat.LOCATION.sort_columns
LocSort = Annotated[str, sort_query(list(LOC_SORT), "location")]


@router.get("/locations")
def list_locations(who: Viewer, ctx: Ctx, page: Paged, kind: str | None = None,
                   sort: LocSort = "location"
                   ) -> Page[LocationPublic]:
    """The locations the key may see."""
    with ctx.uow() as uow:
        rows, total = cat.list_(uow, who, cat.LOCATION, page_request(page, sort), kind=kind)
    return Page(items=[LocationPublic(**r) for r in rows], limit=page.limit,
                offset=page.offset, total=total)


@router.post("/locations", status_code=201)
def create_location(body: LocationCreate, who: Admin, idem: Idem) -> LocationPublic:
    """Add a location (a key limited to locations may only add one of its own)."""
    visible(who, body.location, what="location")  # 404 before the idempotency record

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        return 201, LocationPublic(**cat.create(uow, who, cat.LOCATION, body.model_dump()))

    return idem.run(body, effect)  # type: ignore[return-value]


@router.get("/locations/{location}")
def get_location(location: str, who: Viewer, ctx: Ctx) -> LocationPublic:
    """One location (404 outside the key's locations)."""
    with ctx.uow() as uow:
        return LocationPublic(**cat.get(uow, who, cat.LOCATION, location))


@router.patch("/locations/{location}")
def update_location(location: str, body: LocationUpdate, who: Admin, ctx: Ctx
                    ) -> LocationPublic:
    """Change a location (``allows_backorders`` is copied onto its stock rows)."""
    with writing(ctx.engine) as uow:
        return LocationPublic(**cat.update_(uow, who, cat.LOCATION, location,
                                            body.model_dump(exclude_unset=True)))


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


SUP_SORT = cat.SUPPLIER.sort_columns
SupSort = Annotated[str, sort_query(list(SUP_SORT), "supplier")]
ITEM_SORT = cat.ITEM_SORT
ItemSort = Annotated[str, sort_query(list(ITEM_SORT), "sku")]


@router.get("/suppliers")
def list_suppliers(who: Viewer, ctx: Ctx, page: Paged,
                   sort: SupSort = "supplier"
                   ) -> Page[SupplierPublic]:
    """Suppliers."""
    with ctx.uow() as uow:
        rows, total = cat.list_(uow, who, cat.SUPPLIER, page_request(page, sort))
    return Page(items=[SupplierPublic(**r) for r in rows], limit=page.limit,
                offset=page.offset, total=total)


@router.post("/suppliers", status_code=201)
def create_supplier(body: SupplierCreate, who: Planner, idem: Idem) -> SupplierPublic:
    """Add a supplier (409 when the id is taken)."""

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        return 201, SupplierPublic(**cat.create(uow, who, cat.SUPPLIER, body.model_dump()))

    return idem.run(body, effect)  # type: ignore[return-value]


@router.get("/suppliers/{supplier}")
def get_supplier(supplier: str, who: Viewer, ctx: Ctx) -> SupplierPublic:
    """One supplier."""
    with ctx.uow() as uow:
        return SupplierPublic(**cat.get(uow, who, cat.SUPPLIER, supplier))


@router.patch("/suppliers/{supplier}")
def update_supplier(supplier: str, body: SupplierUpdate, who: Planner, ctx: Ctx
                    ) -> SupplierPublic:
    """Change a supplier's name or email."""
    with writing(ctx.engine) as uow:
        return SupplierPublic(**cat.update_(uow, who, cat.SUPPLIER, supplier,
                                            body.model_dump(exclude_unset=True)))


@router.get("/suppliers/{supplier}/items")
def list_supplier_items(supplier: str, who: Viewer, ctx: Ctx, page: Paged,
                        sort: ItemSort = "sku"
                        ) -> Page[SupplierItemPublic]:
    """A supplier's terms per SKU (lead time, MOQ, pack size, costs)."""
    with ctx.uow() as uow:
        rows, total = cat.supplier_items(uow, who, supplier, page_request(page, sort))
    return Page(items=[SupplierItemPublic(**r) for r in rows], limit=page.limit,
                offset=page.offset, total=total)


@router.post("/suppliers/{supplier}/items", status_code=201)
def put_supplier_item(supplier: str, body: SupplierItemCreate, who: Planner, idem: Idem
                      ) -> SupplierItemPublic:
    """Set a supplier's terms for one SKU."""

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        return 201, SupplierItemPublic(**cat.put_supplier_item(uow, who, supplier,
                                                               body.model_dump()))

    return idem.run(body, effect)  # type: ignore[return-value]
