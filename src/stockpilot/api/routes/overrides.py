"""Planner overrides: set, list and remove them (the next plan applies and names them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from stockpilot.api.deps import Ctx, Planner, Viewer, visible
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Out, RowId, Text
from stockpilot.store.uow import writing
from stockpilot.usecases.overrides import (
    ALL,
    OverrideIn,
    get_override,
    list_overrides,
    remove_override,
    set_override,
)

router = APIRouter(tags=["overrides"], responses={**COMMON, **WRITES})
Kind = Literal["service_level", "order_up_to", "min", "max", "forecast_factor",
               "forecast_units"]


class OverrideCreate(In):
    """An override of the plan for one SKU (at one location, or all when none is given)."""

    sku: Ident
    kind: Kind
    value: Annotated[float, Field(allow_inf_nan=False)]
    location: Ident | None = None
    start: date | None = None
    end: date | None = None
    expires: date | None = None
    author: Text | None = None
    note: Text | None = None


class OverridePublic(Out):
    """A stored override; ``location`` ``*`` holds at every location of the SKU."""

    id: int
    sku: str
    location: str
    kind: str
    value: float
    start: date | None
    end: date | None
    expires: date | None
    author: str
    note: str | None
    created_at: datetime
    active: bool | None = None


@router.get("/overrides")
def list_all(who: Viewer, ctx: Ctx, sku: str | None = None) -> list[OverridePublic]:
    """Overrides (of ``sku``) at the key's locations, with whether each is in force today."""
    with ctx.uow() as uow:
        df = list_overrides(uow, who, sku)
    return [OverridePublic(**r) for r in df.iter_rows(named=True)]


@router.post("/overrides", status_code=201)
def create(body: OverrideCreate, who: Planner, idem: Idem) -> OverridePublic:
    """Set an override; refused (422) for an unknown SKU/location or an unusable value."""
    if who.locations is not None:  # a key limited to locations sets overrides only there
        visible(who, body.location or ALL, what="location")

    def effect(uow: Any) -> tuple[int, Any]:  # the idempotency record's transaction
        conn = uow.conn
        o = OverrideIn(sku=body.sku, kind=body.kind, value=body.value, location=body.location,
                       start=body.start, end=body.end, expires=body.expires, note=body.note,
                       author=body.author or f"api key {who.key_id}")
        return 201, OverridePublic(**get_override(conn, set_override(conn, o)))  # type: ignore[arg-type]

    return idem.run(body, effect)  # type: ignore[return-value]


@router.delete("/overrides/{override_id}", status_code=204)
def remove(override_id: RowId, who: Planner, ctx: Ctx) -> Response:
    """Remove an override (a key limited to locations: only one at its locations)."""
    with writing(ctx.engine) as uow:
        remove_override(uow, who, override_id)
    return Response(status_code=204)
