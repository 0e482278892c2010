"""API keys: created with a role and optional locations, stored as SHA-256, shown once.

Keys are 32 random bytes (URL-safe), so a fast hash is enough to store them (they cannot be
guessed from a dictionary; passwords would need argon2). A key may be limited to a set of
locations: objects elsewhere answer 404, as if they did not exist.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select

from stockpilot.store import schema_api as ta

ROLES = ("viewer", "planner", "operator", "admin")


@dataclass(frozen=True)
class Principal:
    """Who is calling: key id, role, and the locations it may see (None: all)."""

    key_id: int
    role: str
    locations: frozenset[str] | None

    def at_least(self, role: str) -> bool:
        """True when this key's role is ``role`` or higher."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def sees(self, location: str) -> bool:
        """True when the key may see and touch ``location``."""
        return self.locations is None or location in self.locations


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(engine: Engine, name: str, role: str,
               locations: list[str] | None = None) -> str:
    """Create a key and return its secret (the only time it is shown)."""
    with engine.begin() as conn:
        return create_key_in(conn, name, role, locations)[1]


def create_key_in(conn: Connection, name: str, role: str,
                  locations: list[str] | None = None) -> tuple[int, str]:
    """Create a key on an open transaction; returns its id and secret."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    secret = "sp_" + secrets.token_urlsafe(32)
    key_id = conn.execute(insert(ta.api_keys).values(
        name=name, prefix=secret[:10], secret_sha256=_digest(secret), role=role,
        locations=sorted(set(locations)) if locations else None, created_at=datetime.now(UTC))
        .returning(ta.api_keys.c.id)).scalar_one()
    return int(key_id), secret


def lookup(engine: Engine, secret: str) -> Principal | None:
    """The principal of a presented key, or None (unknown or revoked)."""
    k = ta.api_keys.c
    with engine.connect() as conn:
        row = conn.execution_options(readonly=True).execute(select(k.id, k.role, k.locations).where(
            k.secret_sha256 == _digest(secret), k.revoked_at.is_(None))).first()
    if row is None:
        return None
    return Principal(row.id, row.role, frozenset(row.locations) if row.locations else None)
