"""API keys for the API's edge: thin wrappers over :mod:`stockpilot.usecases.keys`.

A key's caller is an :class:`~stockpilot.usecases.actor.Actor` (``key_id`` set); a key may be
limited to a set of locations: objects elsewhere answer 404, as if they did not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stockpilot.store.uow import reading, writing
from stockpilot.usecases import keys
from stockpilot.usecases.actor import ROLES, SYSTEM, Actor

if TYPE_CHECKING:
    from stockpilot.store.db import Engine

#: The caller of an API route.
Principal = Actor
_digest = keys.digest

__all__ = ["ROLES", "Principal", "create_key", "lookup"]


def create_key(engine: Engine, name: str, role: str,
               locations: list[str] | None = None) -> str:
    """Create a key and return its secret (the only time it is shown)."""
    with writing(engine) as uow:
        return keys.create_key(uow, SYSTEM, name, role, locations)[1]


def lookup(engine: Engine, secret: str) -> Actor | None:
    """The caller of a presented key, or None (unknown or revoked)."""
    with reading(engine) as uow:
        return keys.lookup(uow, secret)
