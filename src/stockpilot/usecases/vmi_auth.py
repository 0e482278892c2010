"""Supplier credentials: API keys and dashboard users bound to one supplier.

They live apart from the shop's keys and users (``store/schema_vmi.py``), so a supplier
credential is unknown to every shop route. Keys are stored as SHA-256 and shown once; user
passwords as argon2id, as the shop's dashboard users are.

Every function takes an open :class:`~stockpilot.store.uow.UnitOfWork` (the caller commits);
making or revoking a credential also takes the :class:`~stockpilot.usecases.actor.Actor` doing
it, who must be an admin.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update

from stockpilot.errors import NotFound, StockpilotError
from stockpilot.store import schema as t
from stockpilot.store import schema_vmi as tv
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, require

KEY_PREFIX = "spk_"
SESSION_LIFETIME = timedelta(hours=8)


@dataclass(frozen=True)
class SupplierScope:
    """A supplier caller: which supplier, and a name for the audit trail."""

    supplier: str
    name: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _known_supplier(uow: UnitOfWork, supplier: str) -> None:
    found = uow.conn.execute(select(t.suppliers.c.supplier)
                             .where(t.suppliers.c.supplier == supplier)).first()
    if found is None:
        raise NotFound(f"unknown supplier {supplier!r}")


def create_supplier_key(uow: UnitOfWork, actor: Actor, supplier: str, name: str) -> str:
    """A new API key for ``supplier``; returns the secret (the only time it is shown)."""
    require(actor, "admin")
    _known_supplier(uow, supplier)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    uow.conn.execute(insert(tv.supplier_keys).values(
        supplier=supplier, name=name, secret_sha256=_digest(secret),
        created_at=datetime.now(UTC)))
    return secret


def revoke_supplier_key(uow: UnitOfWork, actor: Actor, key_id: int) -> None:
    """Revoke a supplier key at once."""
    require(actor, "admin")
    k = tv.supplier_keys.c
    n = uow.conn.execute(update(tv.supplier_keys).where(k.id == key_id, k.revoked_at.is_(None))
                         .values(revoked_at=datetime.now(UTC))).rowcount
    if not n:
        raise NotFound(f"no active supplier key {key_id}")


def supplier_of_key(uow: UnitOfWork, secret: str | None) -> SupplierScope | None:
    """The supplier a live key belongs to (None for an unknown or revoked key)."""
    if not secret or not secret.startswith(KEY_PREFIX):
        return None
    k = tv.supplier_keys.c
    row = uow.conn.execute(select(k.supplier, k.name).where(
        k.secret_sha256 == _digest(secret), k.revoked_at.is_(None))).first()
    return None if row is None else SupplierScope(row.supplier, f"key:{row.name}")


def create_supplier_user(uow: UnitOfWork, actor: Actor, username: str, password: str,
                         supplier: str) -> int:
    """A dashboard user who sees only ``supplier``'s items; returns its id."""
    from stockpilot.usecases.users import _hasher

    require(actor, "admin")
    _known_supplier(uow, supplier)
    if len(password) < 12:
        raise StockpilotError("a password needs at least 12 characters")
    taken = uow.conn.execute(select(tv.supplier_users.c.id)
                             .where(tv.supplier_users.c.username == username)).first()
    if taken is not None:
        raise StockpilotError(f"supplier user {username!r} exists")
    return int(uow.conn.execute(insert(tv.supplier_users).values(
        supplier=supplier, username=username, password_hash=_hasher.hash(password),
        created_at=datetime.now(UTC))).inserted_primary_key[0])  # type: ignore[index]


def authenticate_supplier_user(uow: UnitOfWork, username: str, password: str
                               ) -> tuple[int, SupplierScope] | None:
    """(user id, scope) when the password is right, else None (same work either way)."""
    from argon2.exceptions import VerificationError

    from stockpilot.usecases.users import _dummy_hash, _hasher

    u = tv.supplier_users.c
    row = uow.conn.execute(select(u.id, u.supplier, u.password_hash)
                           .where(u.username == username)).first()
    try:
        _hasher.verify(row.password_hash if row else _dummy_hash(), password)
    except VerificationError:
        return None
    return None if row is None else (int(row.id), SupplierScope(row.supplier, f"user:{username}"))


def start_session(uow: UnitOfWork, user_id: int) -> tuple[str, str]:
    """A new session for a supplier user: (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    uow.conn.execute(insert(tv.supplier_sessions).values(
        token_sha256=_digest(token), user_id=user_id, csrf_token=csrf,
        expires_at=datetime.now(UTC) + SESSION_LIFETIME))
    return token, csrf


def resolve_session(uow: UnitOfWork, token: str | None) -> tuple[SupplierScope, str] | None:
    """(scope, CSRF token) of a live session, else None."""
    if not token:
        return None
    s, u = tv.supplier_sessions.c, tv.supplier_users.c
    row = uow.conn.execute(select(u.supplier, u.username, s.csrf_token, s.expires_at)
                           .join(tv.supplier_users, u.id == s.user_id)
                           .where(s.token_sha256 == _digest(token))).first()
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires <= datetime.now(UTC):
        return None
    return SupplierScope(row.supplier, f"user:{row.username}"), row.csrf_token


def end_session(uow: UnitOfWork, token: str | None) -> None:
    """Forget a session."""
    if token:
        uow.conn.execute(delete(tv.supplier_sessions)
                         .where(tv.supplier_sessions.c.token_sha256 == _digest(token)))
