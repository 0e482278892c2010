"""API keys (admin): list, create (the secret is shown once), revoke."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy import Connection, select, update

from stockpilot.api.auth import ROLES, Principal, create_key_in
from stockpilot.api.deps import Admin, Ctx, Page, Paged, order_by, page_of, sort_query
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Out, RowId, Text
from stockpilot.errors import NotFound
from stockpilot.store import schema_api as ta

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


KC = ta.api_keys.c
COLS = (KC.id, KC.name, KC.prefix, KC.role, KC.locations, KC.created_at, KC.revoked_at)
KEY_SORT = {"id": KC.id, "name": KC.name, "created_at": KC.created_at}
KeySort = Annotated[str, sort_query(list(KEY_SORT), "id")]


def _within(who: Principal, locations: list[str] | None) -> bool:
    """A limited admin manages only keys limited to (some of) its own locations."""
    return who.locations is None or (locations is not None and set(locations) <= who.locations)


def _get(conn: Connection, key_id: int, who: Principal) -> KeyPublic:
    row = conn.execute(select(*COLS).where(KC.id == key_id)).first()
    if row is None or not _within(who, row.locations):
        raise NotFound(f"no key {key_id}")
    return KeyPublic(**row._mapping)


@router.get("")
def list_keys(who: Admin, ctx: Ctx, page: Paged, sort: KeySort = "id") -> Page[KeyPublic]:
    """Keys (a limited admin sees the keys within its locations)."""
    with ctx.read() as conn:
        rows, total = page_of(conn, select(*COLS), page, order_by(sort, KEY_SORT))
    items = [KeyPublic(**r) for r in rows if _within(who, r["locations"])]
    if who.locations is not None:
        total = len(items)
    return Page(items=items, limit=page.limit, offset=page.offset, total=total)


@router.post("", status_code=201)
def create_key(body: KeyCreate, who: Admin, idem: Idem) -> KeyCreated:
    """Create a key; its secret is in this response only (stored as SHA-256)."""
    if not _within(who, body.locations):
        raise NotFound("a key limited to locations can only create keys within them")

    def effect(conn: Connection) -> tuple[int, Any]:
        key_id, secret = create_key_in(conn, body.name, body.role, body.locations)
        return 201, KeyCreated(**_get(conn, key_id, who).model_dump(), secret=secret)

    return idem.run(body, effect, redact=lambda p: {**p, "secret": None})  # type: ignore[return-value]


class RevokeIn(In):
    """Why (not stored yet)."""

    reason: Text | None = None


@router.post("/{key_id}/revoke")
def revoke_key(key_id: RowId, body: RevokeIn, who: Admin, ctx: Ctx, idem: Idem) -> KeyPublic:
    """Revoke a key: it stops working at once on this server (see ``api_key_cache_seconds``)."""

    def effect(conn: Connection) -> tuple[int, Any]:
        _get(conn, key_id, who)
        conn.execute(update(ta.api_keys).where(KC.id == key_id, KC.revoked_at.is_(None))
                     .values(revoked_at=datetime.now(UTC)))
        return 200, _get(conn, key_id, who)

    response = idem.run(body, effect)
    ctx.keys.clear()
    return response  # type: ignore[return-value]
