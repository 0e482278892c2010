"""Server-side sessions and CSRF tokens for the dashboard.

The session cookie holds a random token signed with the workspace secret (itsdangerous), so a
forged or altered cookie is refused before the database is asked; the database keeps only the
token's SHA-256, the user and a CSRF token bound to the session. Every form and every htmx
request must send that CSRF token back (hidden field ``csrf_token`` or header
``X-CSRF-Token``). The login form, which comes before any session, uses a signed
double-submit cookie instead.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, Signer

from stockpilot.store.uow import reading, writing
from stockpilot.usecases import users
from stockpilot.usecases.actor import Actor

if TYPE_CHECKING:
    from stockpilot.store.db import Engine

SESSION_COOKIE = "sp_session"
LOGIN_COOKIE = "sp_login_csrf"
LIFETIME = timedelta(hours=12)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def is_loopback(host: str | None) -> bool:
    """True for loopback names and addresses (the only hosts the default secret may serve)."""
    return host is not None and (host in LOOPBACK or host.startswith("127."))


class Sessions:
    """Create, resolve and end sessions in one workspace's database."""

    def __init__(self, engine: Engine, secret: str) -> None:
        self.engine = engine
        self._signer = Signer(secret, salt="stockpilot.web.session")
        self._login = Signer(secret, salt="stockpilot.web.login-csrf")

    def start(self, user: Actor) -> str:
        """Open a session for ``user``; returns the cookie value."""
        token = secrets.token_urlsafe(32)
        with writing(self.engine) as uow:
            users.start_session(uow, user, token, LIFETIME)
        return self._signer.sign(token).decode()

    def resolve(self, cookie: str | None) -> tuple[Actor, str] | None:
        """(user, CSRF token) of a live session cookie, else None."""
        token = self._unsign(cookie)
        if token is None:
            return None
        with reading(self.engine) as uow:
            return users.resolve_session(uow, token)

    def end(self, cookie: str | None) -> None:
        """Log out: forget the session (a copied cookie stops working too)."""
        token = self._unsign(cookie)
        if token is not None:
            with writing(self.engine) as uow:
                users.end_session(uow, token)

    def login_token(self) -> tuple[str, str]:
        """(form value, cookie value) of a fresh double-submit token for the login form."""
        raw = secrets.token_urlsafe(24)
        return raw, self._login.sign(raw).decode()

    def login_token_ok(self, form_value: str | None, cookie: str | None) -> bool:
        """True when the login form's token matches its signed cookie."""
        if not form_value or not cookie:
            return False
        try:
            raw = self._login.unsign(cookie).decode()
        except BadSignature:
            return False
        return hmac.compare_digest(raw, form_value)

    def _unsign(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self._signer.unsign(cookie).decode()
        except BadSignature:
            return None


def csrf_ok(expected: str, presented: str | None) -> bool:
    """Constant-time comparison of the session's CSRF token with the one sent."""
    return bool(presented) and hmac.compare_digest(expected, presented or "")
