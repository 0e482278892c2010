"""Users and sessions of the dashboard: argon2id passwords, a role, optional locations.

Roles rank as in the API: viewer < planner < operator < admin. A signed-in user is an
:class:`~stockpilot.usecases.actor.Actor` (``user_id`` and ``name`` set). Sessions are kept
server-side as the SHA-256 of their token, with a CSRF token bound to them; signing the
cookie is the dashboard's business (:mod:`stockpilot.web.sessions`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from stockpilot.errors import StockpilotError
from stockpilot.store import schema_web as tw
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import ROLES, Actor, require

MIN_PASSWORD = 8
_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) defaults
_dummy: dict[int, str] = {}
_u, _s = tw.web_users.c, tw.web_sessions.c
# built once: per-request statement building costs more than the lookup itself
_RESOLVE = (select(_u.id, _u.username, _u.role, _u.locations, _s.csrf_token, _s.expires_at)
            .join_from(tw.web_sessions, tw.web_users, _s.user_id == _u.id)
            .where(_s.token_sha256 == bindparam("k_token"), _u.disabled_at.is_(None)))


class InvalidUser(StockpilotError):
    """A user could not be created as asked (bad role, short password, taken name)."""

    status = 422
    title = "Invalid user"


def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist (no user enumeration by timing)."""
    key = id(_hasher)
    if key not in _dummy:
        _dummy[key] = _hasher.hash("not-a-password-of-anyone")
    return _dummy[key]


def _actor(row: Any) -> Actor:
    locs = row.locations
    return Actor(row.role, frozenset(locs) if locs else None, name=row.username,
                 user_id=int(row.id))


def create_user(uow: UnitOfWork, actor: Actor, username: str, password: str,
                role: str = "viewer", locations: list[str] | None = None) -> int:
    """Add a user; returns its id. Raises :class:`InvalidUser` on a bad role/password/name."""
    require(actor, "admin")
    if role not in ROLES:
        raise InvalidUser(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < MIN_PASSWORD:
        raise InvalidUser(f"password must have at least {MIN_PASSWORD} characters")
    if not username or len(username) > 64:
        raise InvalidUser("username must have 1 to 64 characters")
    try:
        with uow.conn.begin_nested():
            return int(uow.conn.execute(insert(tw.web_users).values(
                username=username, password_hash=_hasher.hash(password), role=role,
                locations=sorted(locations) if locations else None,
                created_at=datetime.now(UTC)).returning(tw.web_users.c.id)).scalar_one())
    except IntegrityError as exc:
        raise InvalidUser(f"user {username!r} already exists") from exc


def set_password(uow: UnitOfWork, actor: Actor, username: str, password: str) -> None:
    """Replace a user's password and end all their sessions.

    A password is changed because the old one may be known: a session opened with it (a
    stolen cookie) must not outlive it.
    """
    require(actor, "admin")
    if len(password) < MIN_PASSWORD:
        raise InvalidUser(f"password must have at least {MIN_PASSWORD} characters")
    done = uow.conn.execute(update(tw.web_users).where(_u.username == username)
                            .values(password_hash=_hasher.hash(password)))
    if done.rowcount == 0:
        raise InvalidUser(f"no user {username!r}")
    revoke_sessions(uow, actor, username)


def list_users(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """Every user (never a hash) with its count of live sessions, by name."""
    require(actor, "admin")
    live = (select(_s.user_id, func.count().label("sessions"))
            .where(_s.expires_at > datetime.now(UTC)).group_by(_s.user_id).subquery())
    rows = uow.conn.execute(
        select(_u.id, _u.username, _u.role, _u.locations, _u.created_at, _u.disabled_at,
               func.coalesce(live.c.sessions, 0).label("sessions"))
        .join_from(tw.web_users, live, live.c.user_id == _u.id, isouter=True)
        .order_by(_u.username))
    return [dict(r._mapping) for r in rows]


def _user_id(uow: UnitOfWork, username: str) -> int:
    found = uow.conn.execute(select(_u.id).where(_u.username == username)).scalar()
    if found is None:
        raise InvalidUser(f"no user {username!r}")
    return int(found)


def revoke_sessions(uow: UnitOfWork, actor: Actor, username: str) -> int:
    """End every session of ``username`` (signed-in browsers must sign in again); how many."""
    require(actor, "admin")
    user_id = _user_id(uow, username)
    return int(uow.conn.execute(delete(tw.web_sessions).where(_s.user_id == user_id)).rowcount)


def disable_user(uow: UnitOfWork, actor: Actor, username: str) -> int:
    """Disable a user (sign-in refused, sessions ended); returns the sessions ended.

    Disabling twice changes nothing; the row stays so the user's past actions keep a name.
    """
    require(actor, "admin")
    user_id = _user_id(uow, username)
    uow.conn.execute(update(tw.web_users).where(_u.id == user_id, _u.disabled_at.is_(None))
                     .values(disabled_at=datetime.now(UTC)))
    return revoke_sessions(uow, actor, username)


def authenticate(uow: UnitOfWork, username: str, password: str) -> Actor | None:
    """The user when the password matches (and the user is enabled), else None."""
    row = uow.conn.execute(select(_u.id, _u.username, _u.role, _u.locations, _u.password_hash)
                           .where(_u.username == username, _u.disabled_at.is_(None))).first()
    try:
        _hasher.verify(row.password_hash if row else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return _actor(row) if row else None


def get_user(uow: UnitOfWork, user_id: int) -> Actor | None:
    """An enabled user by id."""
    row = uow.conn.execute(select(_u.id, _u.username, _u.role, _u.locations)
                           .where(_u.id == user_id, _u.disabled_at.is_(None))).first()
    return _actor(row) if row else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(uow: UnitOfWork, user: Actor, token: str, lifetime: timedelta) -> None:
    """Record a session of ``user`` under ``token`` (expired sessions are swept)."""
    if user.user_id is None:
        raise InvalidUser("only a dashboard user can have a session")
    now = datetime.now(UTC)
    uow.conn.execute(delete(tw.web_sessions).where(_s.expires_at < now))
    uow.conn.execute(insert(tw.web_sessions).values(
        token_sha256=_digest(token), user_id=user.user_id,
        csrf_token=secrets.token_urlsafe(32), created_at=now, expires_at=now + lifetime))


def resolve_session(uow: UnitOfWork, token: str) -> tuple[Actor, str] | None:
    """(user, CSRF token) of a live session, else None."""
    row = uow.conn.execute(_RESOLVE, {"k_token": _digest(token)}).first()
    if row is None or _aware(row.expires_at) <= datetime.now(UTC):
        return None
    return _actor(row), row.csrf_token


def end_session(uow: UnitOfWork, token: str) -> None:
    """Forget a session (a copied cookie stops working too)."""
    uow.conn.execute(delete(tw.web_sessions).where(_s.token_sha256 == _digest(token)))


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
