"""Dashboard users, for the CLI and tests: thin wrappers over :mod:`stockpilot.usecases.users`.

Roles rank as in the API: viewer < planner < operator < admin. A viewer reads; a planner also
approves suggestions and acknowledges alerts; operator and admin include everything below.
A signed-in user is an :class:`~stockpilot.usecases.actor.Actor`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stockpilot.store.uow import reading, writing
from stockpilot.usecases import users
from stockpilot.usecases.actor import ROLES, SYSTEM, Actor
from stockpilot.usecases.users import MIN_PASSWORD, InvalidUser

if TYPE_CHECKING:
    from stockpilot.store.db import Engine

#: A signed-in person (kept as a name for the dashboard's code).
User = Actor

__all__ = ["MIN_PASSWORD", "ROLES", "InvalidUser", "User", "authenticate", "create_user",
           "get_user", "set_password"]


def create_user(engine: Engine, username: str, password: str, role: str = "viewer",
                locations: list[str] | None = None) -> int:
    """Add a user; returns its id. Raises :class:`InvalidUser` on a bad role/password/name."""
    with writing(engine) as uow:
        return users.create_user(uow, SYSTEM, username, password, role, locations)


def set_password(engine: Engine, username: str, password: str) -> None:
    """Replace a user's password and end all their sessions."""
    with writing(engine) as uow:
        users.set_password(uow, SYSTEM, username, password)


def authenticate(engine: Engine, username: str, password: str) -> Actor | None:
    """The user when the password matches (and the user is enabled), else None."""
    with reading(engine) as uow:
        return users.authenticate(uow, username, password)


def get_user(engine: Engine, user_id: int) -> Actor | None:
    """An enabled user by id."""
    with reading(engine) as uow:
        return users.get_user(uow, user_id)
