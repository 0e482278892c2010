"""RFC 7807 problem responses: one shape for every error the API returns."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from stockpilot.errors import StockpilotError
from stockpilot.store.errors import ConstraintViolated, InvalidValue
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


#: A client's ``X-Request-ID`` is reused when it looks like an id (else one is made up).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id(request: Request) -> str:
    """The request's id: the client's ``X-Request-ID`` if sane, else a new random one."""
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex[:16]


def _logged(request: Request, status: int, title: str, detail: str, exc: Exception,
            trace: bool = False) -> JSONResponse:
    """A problem whose detail (the database's or a traceback) is logged, not sent.

    The body and the ``X-Request-ID`` header carry the id under which the log has it.
    """
    rid = request_id(request)
    text = str(getattr(exc, "orig", None) or exc).strip()
    what = (f"{request.method} {request.url.path} [request {rid}]: {type(exc).__name__}: "
            f"{text.splitlines()[0][:300] if text else ''}")
    if trace:
        log.error("unhandled error in %s", what, exc_info=exc)
    else:
        log.warning("%s %s", status, what)
    return problem(status, title, f"{detail} (request id {rid})", {"X-Request-ID": rid},
                   {"request_id": rid})


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at the request's path (for ``Allow``).

    Starlette's own 405 names the methods of the first route whose path matched, but GET and
    PATCH of ``/skus/{sku}`` are two routes; this looks through all (included routers too).
    """
    methods = set(_methods_at(request.app.router.routes, request.url.path, ""))
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _methods_at(routes: list[Any], path: str, prefix: str) -> set[str]:
    found: set[str] = set()
    for route in routes:
        if hasattr(route, "original_router"):  # an included router (FastAPI ≥ 0.13x)
            found |= _methods_at(route.original_router.routes, path,
                                 prefix + route.include_context.prefix)
        elif getattr(route, "methods", None) and path.startswith(prefix) and \
                route.path_regex.match(path[len(prefix):]):
            found |= set(route.methods)
    return found


def install(app: FastAPI) -> None:
    """Map every error to a problem response."""

    @app.exception_handler(StockpilotError)
    async def _domain(_: Request, exc: StockpilotError) -> JSONResponse:
        headers = None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(max(1, round(exc.retry_after_s + 0.5)))}
        return problem(exc.status, exc.title, str(exc), headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # every method of the path, not just the first route's
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return problem(exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail),
                       headers)

    @app.exception_handler(InvalidValue)
    async def _data(request: Request, exc: InvalidValue) -> JSONResponse:
        # a value the database cannot store (out of range, NUL in text): the client's input;
        # the database's own words name its columns and constraints, so they stay in the log
        return _logged(request, 422, "Invalid value", "a value is out of range or too long to "
                       "be stored; nothing was changed", exc)

    @app.exception_handler(ConstraintViolated)
    async def _integrity(request: Request, exc: ConstraintViolated) -> JSONResponse:
        # a constraint the checks above did not foresee: the stored data wins, nothing changed
        return _logged(request, 409, "Conflict with stored data", "the request conflicts with "
                       "stored data; nothing was changed", exc)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        return _logged(request, 500, "Internal error", "the server failed; the error is "
                       "logged", exc, trace=True)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, "Invalid request", "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
