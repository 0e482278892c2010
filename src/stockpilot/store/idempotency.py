"""The repository of API idempotency records (``idempotency_keys``): find one, add one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
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
