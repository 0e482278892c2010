"""``Idempotency-Key`` on every POST: a retried request gets the first answer, not a second effect.

The record (key id, idempotency key, a hash of method, path and body, status and response) is
inserted in the same transaction as the request's effect, so either both are durable or
neither. The same key with the same body replays the stored response; with another body it is
refused (422); a request that finds the key taken when it commits raced one still in flight
(409: retry it to get the stored answer). Errors roll the effect back and store nothing, so a
failed request can be retried with the same key.

Long work done before the effect's transaction (a planning run, a simulation) first *claims*
the key in its own short transaction (a pending record): a concurrent request with the key is
refused with 409 while the work runs, so the work runs once. The claim becomes the answer when
the effect commits, and is dropped if the work fails (the key can be retried); a claim left by
a killed server is taken over after :data:`CLAIM_TTL`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from stockpilot.api.auth import Principal
from stockpilot.api.context import ApiContext
from stockpilot.api.deps import context, principal
from stockpilot.errors import StockpilotError
from stockpilot.store import idempotency as records
from stockpilot.store.uow import UnitOfWork, writing

#: After this long a pending claim is taken to be abandoned (its server died mid-work).
CLAIM_TTL = timedelta(hours=1)
#: What an effect answers: HTTP status and a JSON-able body.
Outcome = tuple[int, Any]


class IdempotencyKeyReused(StockpilotError):
    """The key was used before with a different request body."""

    status = 422
    title = "Idempotency-Key reused"


class RequestInFlight(StockpilotError):
    """Another request with the same key committed first."""

    status = 409
    title = "Request in flight"


@dataclass
class Idempotency:
    """The Idempotency-Key of one request (maybe absent) and how to honour it."""

    ctx: ApiContext
    who: Principal
    key: str | None
    scope: str

    def digest(self, body: Any) -> str:
        """Hash of method, path and body (a key reused on another route is another body)."""
        text = json.dumps(jsonable_encoder(body), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(f"{self.scope}\n{text}".encode()).hexdigest()

    def replay(self, digest: str) -> JSONResponse | None:
        """The stored response for this key and body; 422 for another body; None if new."""
        if not self.key:
            return None
        with self.ctx.uow() as uow:
            seen = records.find(uow, self.who.key_id, self.key)
        if seen is None:
            return None
        if seen.body_sha256 != digest:
            raise IdempotencyKeyReused(f"Idempotency-Key {self.key!r} was used with a "
                                       "different request")
        if seen.status_code == records.PENDING:
            raise RequestInFlight(f"a request with Idempotency-Key {self.key!r} is still "
                                  "running; retry later to get its answer")
        return JSONResponse(seen.response, status_code=seen.status_code,
                            headers={"Idempotent-Replayed": "true"})

    def record(self, uow: UnitOfWork, digest: str, outcome: Outcome,
               redact: Callable[[Any], Any] | None = None, keep: bool = True) -> JSONResponse:
        """Store the response on the effect's transaction (no-op without a key or ``keep``)."""
        status, payload = outcome[0], jsonable_encoder(outcome[1])
        if self._claimed and not keep:  # an answer not to keep: free the key for a retry
            records.release(uow, self.who.key_id, self.key or "")
        elif self.key and keep:
            stored = redact(payload) if redact else payload
            if self._claimed:
                records.complete(uow, self.who.key_id, self.key, status, stored)
                return JSONResponse(payload, status_code=status)
            try:
                records.record(uow, self.who.key_id, self.key, digest, status, stored)
            except records.KeyTaken as exc:
                raise RequestInFlight(f"another request with Idempotency-Key {self.key!r} "
                                      "was processed meanwhile; retry to get its answer") from exc
        return JSONResponse(payload, status_code=status)

    _claimed: bool = False

    def _claim(self, digest: str) -> None:
        """Hold the key while long work runs (409 to a concurrent request with it)."""
        if not self.key:
            return
        with writing(self.ctx.engine) as uow:
            records.release(uow, self.who.key_id, self.key, datetime.now(UTC) - CLAIM_TTL)
        try:
            with writing(self.ctx.engine) as uow:
                records.claim(uow, self.who.key_id, self.key, digest)
        except records.KeyTaken as exc:
            raise RequestInFlight(f"a request with Idempotency-Key {self.key!r} is still "
                                  "running; retry later to get its answer") from exc
        self._claimed = True

    def _release(self) -> None:
        """Drop the claim after the work failed: the key may be retried."""
        if self._claimed:
            with writing(self.ctx.engine) as uow:
                records.release(uow, self.who.key_id, self.key or "")
            self._claimed = False

    def run(self, body: Any, effect: Callable[[UnitOfWork], Outcome], *,
            before: Callable[[], None] | None = None,
            redact: Callable[[Any], Any] | None = None,
            keep: Callable[[Outcome], bool] | None = None) -> JSONResponse:
        """Replay, or run ``effect`` on a unit of work and store its answer in the same one.

        ``before`` runs after the replay check and outside the transaction (long work that
        must not hold SQLite's write lock); ``redact`` strips secrets from the stored copy;
        ``keep(outcome)`` false commits the effect but keeps no record (an answer with
        rejected parts: a retry with the key after the cause is fixed does the rest).
        """
        digest = self.digest(body)
        replayed = self.replay(digest)
        if replayed is not None:
            return replayed
        if before is not None:
            self._claim(digest)
            try:
                before()
            except BaseException:
                self._release()
                raise
        try:
            with UnitOfWork(self.ctx.engine) as uow:
                outcome = effect(uow)
                response = self.record(uow, digest, outcome, redact,
                                       keep is None or keep(outcome))
                uow.commit()
        except BaseException:
            self._release()
            raise
        return response


async def idempotency(request: Request, ctx: Annotated[ApiContext, Depends(context)],
                who: Annotated[Principal, Depends(principal)],
                idempotency_key: Annotated[str | None, Header(
                    min_length=1, max_length=255,
                    description="Replays the first response for the same key and body")] = None
                ) -> Idempotency:
    """The request's idempotency handling."""
    return Idempotency(ctx, who, idempotency_key, f"{request.method} {request.url.path}")


Idem = Annotated[Idempotency, Depends(idempotency)]
