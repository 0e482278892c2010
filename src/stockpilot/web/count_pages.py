"""Cycle counting in the dashboard: the count list, sessions, the scan page, the SKU's history.

The scan page (``/ui/counts/{id}``) is made for a phone at 375 px: one field for the barcode or
SKU (a hardware scanner types into it and presses Enter), one for the quantity, big buttons.
A planner starts sessions and approves; an operator scans. Forms post with the session's
CSRF token and redirect back (post/redirect/get: reloading never counts twice).
"""

# No ``from __future__ import annotations``: FastAPI reads the signatures at run time.
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stockpilot.config import CountingSettings
from stockpilot.errors import StockpilotError
from stockpilot.planning.counting import CountPolicy
from stockpilot.store.uow import reading, writing
from stockpilot.usecases import count_posting, counting

BASE = "/ui/counts"


def _policy(request: Request) -> CountPolicy:
    # The API's context carries the workspace settings; the dashboard is always mounted on
    # the API's app (stockpilot.api.app.create_app), whose state holds it.
    api = getattr(request.app.state, "api", None)
    return counting.policy_of(getattr(getattr(api, "settings", None), "counting",
                                      CountingSettings()))


def add_routes(r: APIRouter, render: Callable[..., HTMLResponse], web_of: Callable[..., Any],
               need: Callable[[str], Any], post: Callable[[str], Any]) -> None:
    """Register the counting pages on the dashboard's router."""
    viewer = Annotated[Any, Depends(need("viewer"))]
    planner_post = Annotated[Any, Depends(post("planner"))]
    operator_post = Annotated[Any, Depends(post("operator"))]

    def engine(request: Request) -> Any:
        return web_of(request).src.engine

    @r.get(BASE)
    def counts_home(request: Request, ctx: viewer, location: str | None = None,
                    error: str = "") -> HTMLResponse:
        user = ctx.user
        with reading(engine(request)) as uow:
            sessions = counting.list_sessions(uow, user)
            due: list[dict[str, Any]] = []
            if user.at_least("planner"):
                due = counting.list_due(uow, user, _policy(request), location=location,
                                        limit=50)
        locations = sorted({d["location"] for d in due} | {s["location"] for s in sessions}
                           | set(user.locations or []))
        return render(request, "counts.html", ctx=ctx, page="counts", sessions=sessions,
                      due=due, location=location, locations=locations, error=error)

    @r.post(BASE + "/start")
    def start(request: Request, ctx: planner_post, location: Annotated[str, Form()],
              limit: Annotated[int | None, Form(ge=1, le=10_000)] = None) -> Response:
        try:
            with writing(engine(request)) as uow:
                sid = counting.start_session(uow, ctx.user, location, _policy(request),
                                             limit=limit)
        except StockpilotError as exc:
            return RedirectResponse(f"{BASE}?error={quote(str(exc))}", 303)
        return RedirectResponse(f"{BASE}/{sid}", 303)

    @r.get(BASE + "/history/{sku}")
    def history(request: Request, sku: str, ctx: viewer) -> HTMLResponse:
        try:
            with reading(engine(request)) as uow:
                rows = count_posting.variance_history(uow, ctx.user, sku)
        except StockpilotError as exc:
            return render(request, "error.html", exc.status, ctx=ctx, title="Not found",
                          message=str(exc))
        name = "_count_history.html" if request.headers.get("hx-request") else \
            "count_history.html"
        return render(request, name, ctx=ctx, page="counts", sku=sku, rows=rows)

    @r.get(BASE + "/{session_id}")
    def session_page(request: Request, session_id: int, ctx: viewer, scanned: str = "",
                     error: str = "", approved: int | None = None) -> HTMLResponse:
        try:
            with reading(engine(request)) as uow:
                s = counting.get_session(uow, ctx.user, session_id)
        except StockpilotError as exc:
            return render(request, "error.html", exc.status, ctx=ctx, title="Not found",
                          message=str(exc))
        last = next((ln for ln in s["lines"] if ln["sku"] == scanned), None)
        return render(request, "count_session.html", ctx=ctx, page="counts", s=s, last=last,
                      error=error, approved=approved,
                      counted=sum(ln["status"] == "counted" for ln in s["lines"]))

    @r.post(BASE + "/{session_id}/scan")
    def scan(request: Request, session_id: int, ctx: operator_post,
             code: Annotated[str, Form(min_length=1, max_length=128)],
             quantity: Annotated[int, Form(ge=0, le=1_000_000_000)]) -> Response:
        try:
            with writing(engine(request)) as uow:
                res = counting.scan(uow, ctx.user, session_id, code, quantity,
                                    _policy(request))
        except StockpilotError as exc:
            return RedirectResponse(f"{BASE}/{session_id}?error={quote(str(exc))}", 303)
        return RedirectResponse(f"{BASE}/{session_id}?scanned={quote(res.sku)}", 303)

    @r.post(BASE + "/{session_id}/approve")
    def approve(request: Request, session_id: int, ctx: planner_post) -> Response:
        try:
            with writing(engine(request)) as uow:
                done = count_posting.approve(uow, ctx.user, session_id)
        except StockpilotError as exc:
            return RedirectResponse(f"{BASE}/{session_id}?error={quote(str(exc))}", 303)
        return RedirectResponse(f"{BASE}/{session_id}?approved={len(done)}", 303)
