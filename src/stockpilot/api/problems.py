"""RFC 7807 problem responses: one shape for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from stockpilot.errors import StockpilotError
from stockpilot.store.errors import ConstraintViolated, InvalidValue, first_line
from stockpilot.usecases.paging import InvalidQuery

__all__ = ["EventProblem", "InvalidQuery", "RateLimited", "install", "problem", "problem_doc"]

PROBLEM = "application/problem+json"
log = logging.getLogger("stockpilot.api")


class Problem(BaseModel):
    """An RFC 7807 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


class EventProblem(Problem):
    """A problem about one event: the reason's facts as extension members (RFC 7807 §3.2)."""

    error_type: str | None = None
    event_id: str | None = None
    sku: str | None = None
    location: str | None = None
    requested: int | None = None
    available: int | None = None


class RateLimited(StockpilotError):
    """A key sent more requests than its token bucket allows."""

    status = 429
    title = "Too many requests"

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"rate limit reached: retry in {retry_after_s:.1f} s")
        self.retry_after_s = retry_after_s


def problem(status: int, title: str, detail: str,
            headers: dict[str, str] | None = None,
            extra: dict[str, Any] | None = None) -> JSONResponse:
    """A problem response (``extra``: extension members beside the standard ones)."""
    body = Problem(title=title, status=status, detail=detail).model_dump() | (extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


_TITLES = {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           409: "Conflict", 413: "Payload too large", 422: "Invalid request",
           429: "Too many requests"}


def problem_doc(description: str, model: type[Problem] = Problem) -> dict[str, Any]:
    """The OpenAPI entry of a problem response described by ``description``."""
    return {"description": description,
            "content": {PROBLEM: {"schema": model.model_json_schema()}}}


_doc = problem_doc


#: Problem responses every route documents (read routes and write routes alike).
Responses = dict[int | str, dict[str, Any]]
COMMON: Responses = {
    400: _doc("The request cannot be carried out (the detail says why)"),
    401: _doc("No valid API key"), 403: _doc("The key's role is too low"),
    404: _doc("Not found, or outside the key's locations"),
    422: _doc("Invalid request"), 429: _doc("Rate limit reached (see Retry-After)")}
#: Extra problem responses of routes that change state.
WRITES: Responses = {409: _doc("Conflict: in-flight Idempotency-Key, insufficient stock, …")}


def install(app: FastAPI) -> None:
    """Map every error to a problem response."""

    @app.exception_handler(StockpilotError)
    async def _domain(_: Request, exc: StockpilotError) -> JSONResponse:
        headers = None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(max(1, round(exc.retry_after_s + 0.5)))}
        return problem(exc.status, exc.title, str(exc), headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail),
                       getattr(exc, "headers", None))

    @app.exception_handler(InvalidValue)
    async def _data(_: Request, exc: InvalidValue) -> JSONResponse:
        # a value the database cannot store (out of range, NUL in text): the client's input
        return problem(422, "Invalid value", first_line(exc))

    @app.exception_handler(ConstraintViolated)
    async def _integrity(_: Request, exc: ConstraintViolated) -> JSONResponse:
        # a constraint the checks above did not foresee: the stored data wins, nothing changed
        return problem(409, "Conflict with stored data", first_line(exc))

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "Internal error", "the server failed; the error is logged")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, "Invalid request", "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
