"""Vendor-managed inventory over HTTP.

``/supplier/…`` answers supplier keys only (``spk_…``, made by ``stockpilot vmi key``): the
supplier's own stock, forecasts, plan and ASNs, and proposing an ASN. Shop keys are refused
there, and supplier keys are unknown to every shop route. ``/vmi/…`` is the shop's side
(planner keys): pending ASNs, approve or reject, agreed bounds, the audit trail.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from stockpilot.api.deps import Ctx, Planner
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Out, RowId, Text
from stockpilot.store.uow import UnitOfWork, writing
from stockpilot.usecases import vmi
from stockpilot.usecases.vmi_auth import SupplierScope, supplier_of_key

supplier_router = APIRouter(tags=["supplier"], responses={**COMMON, **WRITES})
shop_router = APIRouter(tags=["vmi"], responses={**COMMON, **WRITES})


async def supplier(ctx: Ctx, x_api_key: Annotated[str | None, Header()] = None,
                   authorization: Annotated[str | None, Header()] = None) -> SupplierScope:
    """The supplier of a live supplier key (401 otherwise, shop keys included)."""
    secret = x_api_key or (authorization[7:].strip() if authorization and
                           authorization.lower().startswith("bearer ") else None)
    def lookup() -> SupplierScope | None:
        with ctx.uow() as uow:
            return supplier_of_key(uow, secret)

    scope = await run_in_threadpool(lookup)
    if scope is None:
        raise HTTPException(401, "a valid supplier key is required (X-API-Key or Bearer)",
                            headers={"WWW-Authenticate": "Bearer"})
    return scope


Supplier = Annotated[SupplierScope, Depends(supplier)]


class AsnLineIn(In):
    """Units of one of the supplier's SKUs for a location."""

    sku: Ident
    location: Ident
    quantity: Annotated[int, Field(ge=1, le=1_000_000_000, strict=True)]


class AsnCreate(In):
    """An advance shipping notice."""

    lines: Annotated[list[AsnLineIn], Field(min_length=1, max_length=500)]
    expected_at: date | None = None
    note: Text | None = None


class AsnOutcome(Out):
    """What became of an ASN."""

    asn_id: int
    status: str
    auto_approved: bool
    po_id: int | None
    reasons: list[str]


class AsnPublic(Out):
    """An ASN with its lines."""

    id: int
    supplier: str
    status: str
    auto_approved: bool
    expected_at: date | None
    note: str | None
    created_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    po_id: int | None
    lines: list[dict[str, Any]]


class BoundsIn(In):
    """Auto-approval bounds of one SKU-location agreed with a supplier."""

    supplier: Ident
    sku: Ident
    location: Ident
    min_units: Annotated[int, Field(ge=0, le=1_000_000_000)]
    max_units: Annotated[int, Field(ge=0, le=1_000_000_000)]


def _outcome(r: vmi.AsnResult) -> AsnOutcome:
    return AsnOutcome(asn_id=r.asn_id, status=r.status, auto_approved=r.auto_approved,
                      po_id=r.po_id, reasons=list(r.reasons))


def _asn(r: dict[str, Any]) -> AsnPublic:
    return AsnPublic(**{k: v for k, v in r.items() if k in AsnPublic.model_fields})


@supplier_router.get("/supplier/stock")
def supplier_stock(who: Supplier, ctx: Ctx) -> list[dict[str, Any]]:
    """Stock of the supplier's items at every location."""
    with ctx.uow() as uow:
        return vmi.supplier_stock(uow, who)


@supplier_router.get("/supplier/forecasts")
def supplier_forecasts(who: Supplier, ctx: Ctx) -> list[dict[str, Any]]:
    """The latest forecast of the supplier's items, summed over the horizon per series."""
    with ctx.uow() as uow:
        return vmi.supplier_forecasts(uow, ctx.history, who)


@supplier_router.get("/supplier/plan")
def supplier_plan(who: Supplier, ctx: Ctx) -> list[dict[str, Any]]:
    """The latest plan's rows of the supplier's items."""
    with ctx.uow() as uow:
        return vmi.supplier_plan(uow, ctx.history, who)


@supplier_router.get("/supplier/asns")
def supplier_asns(who: Supplier, ctx: Ctx) -> list[AsnPublic]:
    """The supplier's own ASNs, newest first."""
    with ctx.uow() as uow:
        return [_asn(r) for r in vmi.supplier_asns(uow, who)]


@supplier_router.post("/supplier/asns", status_code=201)
def propose(body: AsnCreate, who: Supplier, ctx: Ctx,
            idempotency_key: Annotated[str | None, Header(
                min_length=1, max_length=255,
                description="Replays the ASN first sent with this key")] = None) -> AsnOutcome:
    """Propose a replenishment; approved at once when it keeps positions within the bounds."""
    lines = [vmi.AsnLine(ln.sku, ln.location, ln.quantity) for ln in body.lines]
    with writing(ctx.engine) as uow:
        return _outcome(vmi.propose_asn(uow, who, lines, expected_at=body.expected_at,
                                        note=body.note, idempotency_key=idempotency_key))


@shop_router.get("/vmi/asns")
def shop_asns(who: Planner, ctx: Ctx,
              status: Annotated[str | None, Query(pattern="^(pending|approved|rejected)$")]
              = None,
              supplier_id: Annotated[str | None, Query(max_length=64)] = None
              ) -> list[AsnPublic]:
    """ASNs of every supplier (or one), optionally by status, at the key's locations."""
    with ctx.uow() as uow:
        return [_asn(r) for r in vmi.list_asns(uow, who, supplier_id, status)]


def _run(idem: Any, asn_id: int, approve: bool, who: Any) -> Any:
    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        return 200, _outcome(vmi.decide_asn(uow, who, asn_id, approve, by=f"key:{who.key_id}"))

    return idem.run({"asn_id": asn_id, "approve": approve}, effect)


@shop_router.post("/vmi/asns/{asn_id}/approve")
def approve(asn_id: RowId, who: Planner, idem: Idem) -> AsnOutcome:
    """Approve a pending ASN into a purchase order."""
    return _run(idem, asn_id, True, who)  # type: ignore[no-any-return]


@shop_router.post("/vmi/asns/{asn_id}/reject")
def reject(asn_id: RowId, who: Planner, idem: Idem) -> AsnOutcome:
    """Reject a pending ASN."""
    return _run(idem, asn_id, False, who)  # type: ignore[no-any-return]


@shop_router.post("/vmi/bounds")
def bounds(body: BoundsIn, who: Planner, idem: Idem) -> BoundsIn:
    """Agree (or change) a SKU-location's auto-approval bounds with a supplier."""
    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        vmi.set_bounds(uow, who, body.supplier, body.sku, body.location, body.min_units,
                       body.max_units, by=f"key:{who.key_id}")
        return 200, body

    return idem.run(body, effect)  # type: ignore[return-value]


@shop_router.get("/vmi/audit")
def audit(who: Planner, ctx: Ctx,
          supplier_id: Annotated[str | None, Query(max_length=64)] = None
          ) -> list[dict[str, Any]]:
    """The VMI audit trail, oldest first (rows naming the key's locations only)."""
    with ctx.uow() as uow:
        return vmi.audit_trail(uow, who, supplier_id)
