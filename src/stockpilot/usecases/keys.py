"""API keys: created with a role and optional locations, stored as SHA-256, shown once.

Keys are 32 random bytes (URL-safe), so a fast hash is enough to store them (they cannot be
guessed from a dictionary; passwords would need argon2). A key's caller is an
:class:`~stockpilot.usecases.actor.Actor`. An admin limited to locations manages only keys
limited to (some of) its own locations; other keys do not exist for it (404).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from stockpilot.errors import NotFound
from stockpilot.store import schema_api as ta
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import ROLES, Actor, require
from stockpilot.usecases.paging import PageRequest, page_of

KC = ta.api_keys.c
COLS = (KC.id, KC.name, KC.prefix, KC.role, KC.locations, KC.created_at, KC.revoked_at)
SORTABLE = {"id": KC.id, "name": KC.name, "created_at": KC.created_at}


def digest(secret: str) -> str:
    """The stored form of a key's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def within(actor: Actor, locations: list[str] | None) -> bool:
    """True when ``actor`` may manage a key limited to ``locations`` (None: all)."""
    return actor.locations is None or (locations is not None and
                                       set(locations) <= actor.locations)


def create_key(uow: UnitOfWork, actor: Actor, name: str, role: str,
               locations: list[str] | None = None) -> tuple[int, str]:
    """Create a key; returns its id and secret (the only time the secret is known)."""
    require(actor, "admin")
    if not within(actor, locations):
        raise NotFound("a key limited to locations can only create keys within them")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    secret = "sp_" + secrets.token_urlsafe(32)
    key_id = uow.conn.execute(insert(ta.api_keys).values(
        name=name, prefix=secret[:10], secret_sha256=digest(secret), role=role,
        locations=sorted(set(locations)) if locations else None, created_at=datetime.now(UTC))
        .returning(KC.id)).scalar_one()
    return int(key_id), secret


def lookup(uow: UnitOfWork, secret: str) -> Actor | None:
    """The caller of a presented key, or None (unknown or revoked)."""
    row = uow.conn.execute(select(KC.id, KC.role, KC.locations).where(
        KC.secret_sha256 == digest(secret), KC.revoked_at.is_(None))).first()
    if row is None:
        return None
    return Actor(row.role, frozenset(row.locations) if row.locations else None,
                 name=f"key {row.id}", key_id=int(row.id))


def get_key(uow: UnitOfWork, actor: Actor, key_id: int) -> dict[str, Any]:
    """One key as listed (never its secret)."""
    require(actor, "admin")
    row = uow.conn.execute(select(*COLS).where(KC.id == key_id)).first()
    if row is None or not within(actor, row.locations):
        raise NotFound(f"no key {key_id}")
    return dict(row._mapping)


def list_keys(uow: UnitOfWork, actor: Actor, page: PageRequest
              ) -> tuple[list[dict[str, Any]], int]:
    """Keys the actor may manage: one page and the total."""
    require(actor, "admin")
    rows, total = page_of(uow.conn, select(*COLS), page, SORTABLE)
    items = [r for r in rows if within(actor, r["locations"])]
    return items, total if actor.locations is None else len(items)


def revoke_key(uow: UnitOfWork, actor: Actor, key_id: int) -> dict[str, Any]:
    """Revoke a key (a second revocation changes nothing); returns it afterwards."""
    get_key(uow, actor, key_id)
    uow.conn.execute(update(ta.api_keys).where(KC.id == key_id, KC.revoked_at.is_(None))
                     .values(revoked_at=datetime.now(UTC)))
    return get_key(uow, actor, key_id)
