"""Dependencies of the routes: the context, who is calling, paging, sorting, scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Header, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from stockpilot.api.auth import Principal, lookup
from stockpilot.api.context import ApiContext
from stockpilot.api.guards import client_ip
from stockpilot.api.problems import RateLimited
from stockpilot.errors import NotFound
from stockpilot.usecases.paging import PageRequest

T = TypeVar("T")
MAX_LIMIT = 500


async def context(request: Request) -> ApiContext:
    """The app's shared state."""
    return request.app.state.api  # type: ignore[no-any-return]


Ctx = Annotated[ApiContext, Depends(context)]


async def principal(request: Request, ctx: Ctx,
                    x_api_key: Annotated[str | None, Header()] = None,
                    authorization: Annotated[str | None, Header()] = None) -> Principal:
    """The caller, from ``X-API-Key`` or ``Authorization: Bearer``; 401 without; 429 over.

    Dependencies that only compute are ``async`` so a request hops to the thread pool once,
    for its route; a key found in the short-lived cache needs no database round trip. A
    client whose keys failed too often (see :mod:`stockpilot.api.guards`) gets 429 before
    an uncached key is looked up: guessing keys costs the database nothing.
    """
    secret = x_api_key or (authorization[7:].strip() if authorization and
                           authorization.lower().startswith("bearer ") else None)
    who = None
    if secret:
        who = ctx.keys.get(secret)
        if who is None:
            if wait := ctx.failures.wait(client_ip(request.scope)):
                raise RateLimited(wait)
            who = await run_in_threadpool(lookup, ctx.engine, secret)
            ctx.keys.put(secret, who)
            if who is None:
                ctx.failures.take(client_ip(request.scope))
    if who is None:
        raise HTTPException(401, "a valid API key is required (X-API-Key or Bearer)",
                            headers={"WWW-Authenticate": "Bearer"})
    wait = ctx.buckets.take(who.key_id or 0)  # a key's actor always has its id
    if wait:
        raise RateLimited(wait)
    return who


def require(role: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting keys of ``role`` or higher (403 otherwise)."""

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.at_least(role):
            raise HTTPException(403, f"this route needs the {role} role, the key is {who.role}")
        return who

    check.min_role = role  # type: ignore[attr-defined]  # read by the authorization test
    return check


Viewer = Annotated[Principal, Depends(require("viewer"))]
Planner = Annotated[Principal, Depends(require("planner"))]
Operator = Annotated[Principal, Depends(require("operator"))]
Admin = Annotated[Principal, Depends(require("admin"))]


class Paging(BaseModel):
    """``limit`` (1…500) and ``offset`` of a list."""

    model_config = ConfigDict(extra="forbid")
    limit: int = 100
    offset: int = 0


async def paging(limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
           offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Paging:
    """Bounded page parameters."""
    return Paging(limit=limit, offset=offset)


Paged = Annotated[Paging, Depends(paging)]


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total across pages."""

    items: list[T]
    limit: int
    offset: int
    total: int
    next_after: str | None = Field(default=None, description=(
        "Cursor of the next page (lists that take `after`): pass it as `after`"))


def fast_json(model: BaseModel) -> Response:
    """A response serialised once by pydantic-core (hot routes: no second validation)."""
    return Response(model.model_dump_json(), media_type="application/json")


def sort_query(fields: list[str], default: str) -> Any:
    """The ``sort`` query parameter of a list whose sortable fields are ``fields``.

    Use as ``Annotated[str, sort_query([...], "sku")]``.
    """
    doc = (f"Comma-separated fields, '-' for descending; one of: {', '.join(fields)}. "
           f"Default {default}.")
    return Query(description=doc, max_length=200)


def page_request(page: Paging, sort: str) -> PageRequest:
    """The use cases' page request for a route's paging and ``sort`` parameters."""
    return PageRequest(page.limit, page.offset, sort)


def visible(who: Principal, *locations: str | None, what: str = "object") -> None:
    """404, as if it did not exist, when any location is outside the key's scope."""
    if any(loc is not None and not who.sees(loc) for loc in locations):
        raise NotFound(f"no such {what}")
