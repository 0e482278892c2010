"""The one retry policy: which failures are transient, how often and how long to retry them.

Used by every write that can lose a race or a connection (the ledger's batches, the event
consumer's batches) and by the alert notifiers, with the same limits everywhere:
:data:`ATTEMPTS` tries in all, waits drawn from exponential backoff with full jitter
(``random(0, min(MAX_WAIT_S, FIRST_WAIT_S × 2^n))``; Brooker, "Exponential Backoff And
Jitter", AWS Architecture Blog 2015), via tenacity.

Transient database failures (retrying can succeed): PostgreSQL serialization failures and
deadlocks (SQLSTATE 40001, 40P01), lost or refused connections (class 08, 57P01–57P03, or a
connection SQLAlchemy marked invalidated), SQLite's "database is locked"/"busy", and a unique
violation from a concurrent writer of the same key (the retry sees the winner's rows, which
the ledger then reports as a duplicate). Everything else — a value out of range, a check
constraint, a NUL byte — is permanent and raised at once, so the caller can dead-letter it.
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable
from typing import TypeVar

import httpx
from sqlalchemy.exc import DBAPIError, IntegrityError
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

#: Tries in all (the first one included), for every retried operation.
ATTEMPTS = 5
#: Scale of the first backoff wait and cap of any wait, seconds.
FIRST_WAIT_S = 0.01
MAX_WAIT_S = 1.0

_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03"})
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")

T = TypeVar("T")


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state if isinstance(state, str) else None


def is_transient_db_error(exc: BaseException) -> bool:
    """True when retrying the transaction that raised ``exc`` can succeed (module docstring)."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = _sqlstate(exc)
    if state is not None:
        if state in _TRANSIENT_SQLSTATES or state.startswith("08"):
            return True
        return state == "23505" and isinstance(exc, IntegrityError)  # unique: a lost race
    text = str(exc.orig if exc.orig is not None else exc).lower()
    if any(s in text for s in _SQLITE_BUSY):
        return True
    return isinstance(exc, IntegrityError) and "unique constraint failed" in text


def is_transient_delivery_error(exc: BaseException) -> bool:
    """True for a notifier failure that another try can fix.

    Transient: the network (refused, reset, timed out), HTTP 408/429/5xx, SMTP 4xx and a
    dropped SMTP connection. Permanent: any other HTTP status (401 wrong credentials, 404 bad
    URL, …), SMTP 5xx (recipient refused, authentication failed) and programming errors.
    """
    if isinstance(exc, httpx.HTTPStatusError):
        code = exc.response.status_code
        return code >= 500 or code in (408, 429)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    return isinstance(exc, httpx.TransportError | smtplib.SMTPServerDisconnected | OSError)


def retrying(transient: Callable[[BaseException], bool] = is_transient_db_error, *,
             sleep: Callable[[float], None] = time.sleep,
             attempts: int = ATTEMPTS) -> Retrying:
    """A tenacity ``Retrying`` with the project's limits; re-raises the last error.

    Args:
        transient: which exceptions to retry; any other propagates at once.
        sleep: how to wait (tests pass a recorder).
        attempts: tries in all; the default is the project's limit and callers keep it.
    """
    return Retrying(stop=stop_after_attempt(attempts),
                    wait=wait_random_exponential(multiplier=FIRST_WAIT_S, max=MAX_WAIT_S),
                    retry=retry_if_exception(transient), sleep=sleep, reraise=True)


def call(fn: Callable[[], T], transient: Callable[[BaseException], bool] = is_transient_db_error,
         *, sleep: Callable[[float], None] = time.sleep) -> T:
    """``fn()`` under :func:`retrying`: its value, or the permanent/last error."""
    result: T = retrying(transient, sleep=sleep)(fn)
    return result

