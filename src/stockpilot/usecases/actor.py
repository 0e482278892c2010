"""Who is acting: one caller type for API keys, dashboard users and the CLI.

An :class:`Actor` has a role (viewer < planner < operator < admin) and the locations it may
see and act on (``None``: all). Use cases enforce both, once, through :func:`require` and
:func:`check_locations`; an object outside the actor's locations answers "not found", as if
it did not exist (no leak of what exists elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stockpilot.errors import NotFound, StockpilotError

ROLES = ("viewer", "planner", "operator", "admin")


class Forbidden(StockpilotError):
    """The actor's role is below what the action needs."""

    status = 403
    title = "Forbidden"


@dataclass(frozen=True)
class Actor:
    """A caller: a role, the locations it may see (None: all), and who it is (for records).

    ``key_id`` is set for API keys, ``user_id`` for dashboard users; the CLI and jobs act as
    :data:`SYSTEM`.
    """

    role: str
    locations: frozenset[str] | None = None
    name: str = ""
    key_id: int | None = None
    user_id: int | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {self.role!r}")

    def at_least(self, role: str) -> bool:
        """True when this actor's role is ``role`` or higher."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def sees(self, location: str) -> bool:
        """True when the actor may see and act on ``location``."""
        return self.locations is None or location in self.locations

    def scope(self) -> list[str] | None:
        """The actor's locations, sorted (None: all) — for ``IN (…)`` filters."""
        return None if self.locations is None else sorted(self.locations)


#: The CLI and scheduled jobs: every location, every action.
SYSTEM = Actor("admin", None, name="system")


def require(actor: Actor, role: str) -> None:
    """Raise :class:`Forbidden` unless ``actor`` has ``role`` or higher."""
    if not actor.at_least(role):
        raise Forbidden(f"this needs the {role} role; the caller is {actor.role}")


def check_locations(actor: Actor, locations: Iterable[str | None], what: str = "object"
                    ) -> None:
    """Raise :class:`NotFound` ("no such …") when any location is outside the actor's scope."""
    if any(loc is not None and not actor.sees(loc) for loc in locations):
        raise NotFound(f"no such {what}")
