"""Dashboard users: a role, optional locations, an argon2id password hash.

Roles rank as in the API: viewer < planner < operator < admin. A viewer reads; a planner also
approves suggestions and acknowledges alerts; operator and admin include everything below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from stockpilot.errors import StockpilotError
from stockpilot.store import schema_web as tw

ROLES = ("viewer", "planner", "operator", "admin")
MIN_PASSWORD = 8
_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) defaults
_dummy: dict[int, str] = {}


def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist (no user enumeration by timing)."""
    key = id(_hasher)
    if key not in _dummy:
        _dummy[key] = _hasher.hash("not-a-password-of-anyone")
    return _dummy[key]


class InvalidUser(StockpilotError):
    """A user could not be created as asked (bad role, short password, taken name)."""

    status = 422
    title = "Invalid user"


@dataclass(frozen=True)
class User:
    """A signed-in person: id, name, role and the locations they may see (None: all)."""

    id: int
    username: str
    role: str
    locations: frozenset[str] | None

    def at_least(self, role: str) -> bool:
        """True when this user's role is ``role`` or higher."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def sees(self, location: str) -> bool:
        """True when the user may see and act on ``location``."""
        return self.locations is None or location in self.locations


def create_user(engine: Engine, username: str, password: str, role: str = "viewer",
                locations: list[str] | None = None) -> int:
    """Add a user; returns its id. Raises :class:`InvalidUser` on a bad role/password/name."""
    if role not in ROLES:
        raise InvalidUser(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < MIN_PASSWORD:
        raise InvalidUser(f"password must have at least {MIN_PASSWORD} characters")
    if not username or len(username) > 64:
        raise InvalidUser("username must have 1 to 64 characters")
    try:
        with engine.begin() as conn:
            return int(conn.execute(insert(tw.web_users).values(
                username=username, password_hash=_hasher.hash(password), role=role,
                locations=sorted(locations) if locations else None,
                created_at=datetime.now(UTC)).returning(tw.web_users.c.id)).scalar_one())
    except IntegrityError as exc:
        raise InvalidUser(f"user {username!r} already exists") from exc


def set_password(engine: Engine, username: str, password: str) -> None:
    """Replace a user's password (and so end none of their sessions: do that separately)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidUser(f"password must have at least {MIN_PASSWORD} characters")
    u = tw.web_users.c
    with engine.begin() as conn:
        done = conn.execute(update(tw.web_users).where(u.username == username)
                            .values(password_hash=_hasher.hash(password)))
    if done.rowcount == 0:
        raise InvalidUser(f"no user {username!r}")


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """The user when the password matches (and the user is enabled), else None."""
    u = tw.web_users.c
    with engine.connect() as conn:
        row = conn.execute(select(u.id, u.username, u.role, u.locations, u.password_hash)
                           .where(u.username == username, u.disabled_at.is_(None))).first()
    try:
        _hasher.verify(row.password_hash if row else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return _user(row) if row else None


def get_user(engine: Engine, user_id: int) -> User | None:
    """An enabled user by id."""
    u = tw.web_users.c
    with engine.connect() as conn:
        row = conn.execute(select(u.id, u.username, u.role, u.locations)
                           .where(u.id == user_id, u.disabled_at.is_(None))).first()
    return _user(row) if row else None


def _user(row: object) -> User:
    locs = row.locations  # type: ignore[attr-defined]
    return User(int(row.id), row.username, row.role,  # type: ignore[attr-defined]
                frozenset(locs) if locs else None)
