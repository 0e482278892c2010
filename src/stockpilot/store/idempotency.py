"""The repository of API idempotency records (``idempotency_keys``): find one, add one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from stockpilot.store import schema_api as ta
from stockpilot.store.uow import UnitOfWork

_i = ta.idempotency_keys.c


class KeyTaken(Exception):
    """Another transaction recorded the same (key id, idempotency key) first."""


@dataclass(frozen=True)
class Recorded:
    """A stored answer: the request body's hash, the status and the response body."""

    body_sha256: str
    status_code: int
    response: Any


def find(uow: UnitOfWork, key_id: int | None, idem_key: str) -> Recorded | None:
    """The answer stored for this API key and idempotency key, if any."""
    row = uow.conn.execute(select(_i.body_sha256, _i.status_code, _i.response).where(
        _i.key_id == key_id, _i.idem_key == idem_key)).first()
    return Recorded(row.body_sha256, row.status_code, row.response) if row else None


#: The status of a claimed key whose work is still running (HTTP 102 Processing).
PENDING = 102


def claim(uow: UnitOfWork, key_id: int | None, idem_key: str, digest: str) -> None:
    """Take the key before long work (:class:`KeyTaken` if another request holds it)."""
    record(uow, key_id, idem_key, digest, PENDING, {"pending": True})


def complete(uow: UnitOfWork, key_id: int | None, idem_key: str, status: int,
             response: Any) -> None:
    """Store the answer of claimed work on the effect's transaction."""
    uow.conn.execute(update(ta.idempotency_keys).where(
        _i.key_id == key_id, _i.idem_key == idem_key).values(
        status_code=status, response=response))


def release(uow: UnitOfWork, key_id: int | None, idem_key: str,
            older_than: datetime | None = None) -> int:
    """Drop a pending claim (its work failed, or was abandoned before ``older_than``)."""
    stmt = delete(ta.idempotency_keys).where(
        _i.key_id == key_id, _i.idem_key == idem_key, _i.status_code == PENDING)
    if older_than is not None:
        stmt = stmt.where(_i.created_at < older_than)
    return int(uow.conn.execute(stmt).rowcount)


def record(uow: UnitOfWork, key_id: int | None, idem_key: str, digest: str, status: int,
           response: Any) -> None:
    """Store an answer on the effect's transaction (:class:`KeyTaken` when raced)."""
    try:
        with uow.conn.begin_nested():
            uow.conn.execute(insert(ta.idempotency_keys).values(
                key_id=key_id, idem_key=idem_key, body_sha256=digest, status_code=status,
                response=response, created_at=datetime.now(UTC)))
    except IntegrityError as exc:
        raise KeyTaken(idem_key) from exc
