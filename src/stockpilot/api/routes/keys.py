"""API keys (admin): list, create (the secret is shown once), revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field

from stockpilot.api.auth import ROLES
from stockpilot.api.deps import Admin, Ctx, Page, Paged, page_request, sort_query
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Out, RowId, Text
from stockpilot.errors import NotFound
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import keys

router = APIRouter(prefix="/keys", tags=["keys"], responses={**COMMON, **WRITES})
Role = Literal[ROLES]  # type: ignore[valid-type]


class KeyCreate(In):
    """A new key: who uses it, its role, and optionally the only locations it may see."""

    name: Annotated[Text, Field(min_length=1, max_length=128)]
    role: Role = "viewer"
    locations: Annotated[list[Ident] | None, Field(min_length=1, max_length=1000)] = None


class KeyPublic(Out):
    """A key as listed (never its secret)."""

    id: int
    name: str
    prefix: str
    role: str
    locations: list[str] | None
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyPublic):
    """A new key with its secret: shown this once (a replay by Idempotency-Key omits it)."""

    secret: str | None


KEY_SORT = keys.SORTABLE
KeySort = Annotated[str, sort_query(list(KEY_SORT), "id")]


@router.get("")
def list_keys(who: Admin, ctx: Ctx, page: Paged, sort: KeySort = "id") -> Page[KeyPublic]:
    """Keys (a limited admin sees the keys within its locations)."""
    with ctx.uow() as uow:
        rows, total = keys.list_keys(uow, who, page_request(page, sort))
    return Page(items=[KeyPublic(**r) for r in rows], limit=page.limit, offset=page.offset,
                total=total)


@router.post("", status_code=201)
def create_key(body: KeyCreate, who: Admin, idem: Idem) -> KeyCreated:
    """Create a key; its secret is in this response only (stored as SHA-256)."""
    if not keys.within(who, body.locations):  # before the idempotency record is looked up
        raise NotFound("a key limited to locations can only create keys within them")

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        key_id, secret = keys.create_key(uow, who, body.name, body.role, body.locations)
        return 201, KeyCreated(**keys.get_key(uow, who, key_id), secret=secret)

    return idem.run(body, effect, redact=lambda p: {**p, "secret": None})  # type: ignore[return-value]


class RevokeIn(In):
    """Why (not stored yet)."""

    reason: Text | None = None


@router.post("/{key_id}/revoke")
def revoke_key(key_id: RowId, body: RevokeIn, who: Admin, ctx: Ctx, idem: Idem) -> KeyPublic:
    """Revoke a key: it stops working at once on this server (see ``api_key_cache_seconds``)."""

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        return 200, KeyPublic(**keys.revoke_key(uow, who, key_id))

    response = idem.run(body, effect)
    ctx.keys.clear()
    return response  # type: ignore[return-value]
