"""Edge limits in front of every route: body size, JSON depth, failed sign-ins per IP.

A pure ASGI middleware (no per-request objects beyond the buffered body), so its cost on a
``GET`` is one dict lookup. A body is read in full only up to ``max_body_bytes`` and refused
with 413 past it, before anything parses it. A JSON body nested deeper than
``max_json_depth`` is refused with 400. A client IP whose sign-ins (``POST …/login`` answered
401) failed too often gets 429 with ``Retry-After`` on its next sign-in. Unknown API keys are
counted against the same per-IP buckets in :func:`stockpilot.api.deps.principal`, which
refuses further uncached keys from that IP before any database lookup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from stockpilot.api.problems import problem

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    from fastapi import FastAPI

    from stockpilot.api.ratelimit import TokenBuckets
    from stockpilot.config_limits import LimitSettings

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    App = Callable[[Scope, Receive, Send], Awaitable[None]]

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_BODY_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


def json_depth_over(body: bytes, limit: int) -> bool:
    """True when ``body`` (JSON text) nests arrays/objects deeper than ``limit``.

    Hand-written because no JSON parser we use takes a depth limit (the stdlib, orjson and
    pydantic-core stop only near 1000 levels, after the work is done); strings are cut out
    first so brackets inside them do not count. Invalid JSON is left to the parser.
    """
    depth = 0
    for m in _BRACKET.finditer(_STRING.sub(b"", body)):
        depth += 1 if m.group() in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


def client_ip(scope: Scope) -> str:
    """The peer address (uvicorn's ``--proxy-headers`` puts the forwarded one here)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RequestGuards:
    """The middleware; ``failures`` are the per-IP buckets of failed authentications."""

    def __init__(self, app: App, limits: LimitSettings, failures: TokenBuckets) -> None:
        self.app = app
        self.limits = limits
        self.failures = failures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse what is over a limit; hand the rest, body buffered, to the app."""
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)  # reads pass straight through
            return
        login = scope["path"].endswith("/login")
        ip = client_ip(scope)
        if login and (wait := self.failures.wait(ip)):
            await _refuse(scope, receive, send, 429, "Too many requests",
                          f"too many failed sign-ins from {ip}: retry in {wait:.0f} s",
                          {"Retry-After": str(max(1, round(wait + 0.5)))})
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limits.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        body = await _read_body(receive, self.limits.max_body_bytes)
        if body is None:
            await self._too_large(scope, receive, send)
            return
        if _is_json(scope) and json_depth_over(body, self.limits.max_json_depth):
            await _refuse(scope, receive, send, 400, "Bad request",
                          f"JSON nested deeper than {self.limits.max_json_depth} levels")
            return
        if login:
            await self._counted(scope, _replay(body, receive), send, ip)
        else:
            await self.app(scope, _replay(body, receive), send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, ip: str) -> None:
        """Run a sign-in; a 401 answer spends a token of the client's failure bucket."""

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.failures.take(ip)
            await send(message)

        await self.app(scope, receive, watch)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _refuse(scope, receive, send, 413, "Request body too large",
                      f"the body exceeds {self.limits.max_body_bytes} bytes")


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, title: str,
                  detail: str, headers: dict[str, str] | None = None) -> None:
    await problem(status, title, detail, headers)(scope, receive, send)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def _content_length(scope: Scope) -> int | None:
    raw = _header(scope, b"content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _is_json(scope: Scope) -> bool:
    kind = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
    return kind == b"application/json" or kind.endswith(b"+json")


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes ``limit`` (chunked bodies have no length)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, upstream: Receive) -> Receive:
    """A ``receive`` handing the buffered body to the app, then the server's own messages."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await upstream()

    return receive


def install(app: FastAPI) -> None:
    """Put the guards in front of ``app`` (its ``state.api`` holds the settings and buckets)."""
    ctx = app.state.api
    app.add_middleware(RequestGuards, limits=ctx.settings.limits, failures=ctx.failures)
