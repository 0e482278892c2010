"""The dashboard's routes, mounted on the API's FastAPI app by :func:`mount`.

Pages are server-rendered (Jinja2) and work without JavaScript; htmx swaps table rows in
place when it is there. ``/`` is the overview (``/login`` first), the other pages live under
``/ui/`` so they never collide with API routes. No route is in the OpenAPI schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from stockpilot.config import DEFAULT_SECRET, Settings
from stockpilot.errors import StockpilotError
from stockpilot.store.history import HistoryStore
from stockpilot.web import data, kpis
from stockpilot.web.sessions import (
    LIFETIME,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Sessions,
    csrf_ok,
    is_loopback,
)
from stockpilot.web.users import User, authenticate

if TYPE_CHECKING:
    from stockpilot.store.db import Engine

HERE = Path(__file__).parent
STATIC_URL = "/ui/static"


class WebExit(Exception):
    """Stop handling a request and answer with ``response`` (redirect, 403 page, …)."""

    def __init__(self, response: Response) -> None:
        self.response = response


@dataclass
class Web:
    """The dashboard's state on one app: data sources, sessions, templates, secret."""

    src: data.Sources
    sessions: Sessions
    templates: Jinja2Templates
    default_secret: bool


@dataclass(frozen=True)
class Ctx:
    """Who is asking, with the CSRF token their forms must carry."""

    user: User
    csrf: str


def mount(app: FastAPI, engine: Engine, history: HistoryStore,
          settings: Settings | None = None) -> None:
    """Add the dashboard (pages, login, static files) to ``app``."""
    settings = settings or Settings()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(static=STATIC_URL, sparkline=lambda v: Markup(kpis.sparkline(v)))  # noqa: S704 - our own SVG of numbers
    templates.env.filters["num"] = _num
    app.state.stockpilot_web = Web(data.Sources(engine, history),
                                   Sessions(engine, settings.secret_key), templates,
                                   settings.secret_key == DEFAULT_SECRET)
    app.add_exception_handler(WebExit, _exit)  # type: ignore[arg-type]
    app.include_router(_router())
    app.mount(STATIC_URL, StaticFiles(directory=HERE / "static"), name="web-static")


def configure(app: FastAPI, settings: Settings) -> None:
    """Use a workspace's settings (its session secret) on an app built by ``create_app``."""
    web: Web = app.state.stockpilot_web
    web.sessions = Sessions(web.src.engine, settings.secret_key)
    web.default_secret = settings.secret_key == DEFAULT_SECRET


async def _exit(_: Request, exc: WebExit) -> Response:
    return exc.response


def _num(v: Any, digits: int = 0) -> str:
    if v is None:
        return "–"
    return f"{v:,.{digits}f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) \
        else str(v)


def _web(request: Request) -> Web:
    web: Web = request.app.state.stockpilot_web
    if web.default_secret and not _on_loopback(request):
        raise WebExit(HTMLResponse("The dashboard refuses to run beyond loopback with the "
                                   "default secret: set STOCKPILOT_SECRET_KEY.", 503))
    return web


def _on_loopback(request: Request) -> bool:
    # the address the server listens on (not the client-controlled Host header)
    server = request.scope.get("server")
    return server is not None and is_loopback(str(server[0]))


def _render(request: Request, name: str, code: int = 200, **ctx: Any) -> HTMLResponse:
    web = _web(request)
    resp = web.templates.TemplateResponse(request, name, ctx, status_code=code)
    _harden(resp)
    return resp


def _harden(resp: Response) -> None:
    # ECharts and htmx set inline styles; scripts only from our own static files.
    resp.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers["Cache-Control"] = "no-store"


def _signed_in(request: Request) -> Ctx | None:
    got = _web(request).sessions.resolve(request.cookies.get(SESSION_COOKIE))
    return Ctx(*got) if got else None


def need(role: str) -> Any:
    """Dependency: a signed-in user of at least ``role`` (else login redirect or 403)."""
    def check(request: Request) -> Ctx:
        ctx = _signed_in(request)
        if ctx is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise WebExit(RedirectResponse(f"/login?next={quote(target)}", 303))
        if not ctx.user.at_least(role):
            raise WebExit(_forbidden(request, ctx, f"This needs the {role} role."))
        return ctx
    return check


def post(role: str) -> Any:
    """Dependency for form posts: ``need(role)`` plus a valid session CSRF token (else 403)."""
    async def check(request: Request) -> Ctx:
        ctx: Ctx = need(role)(request)
        form = await request.form()
        sent = request.headers.get("x-csrf-token") or form.get("csrf_token")
        if not csrf_ok(ctx.csrf, sent if isinstance(sent, str) else None):
            raise WebExit(_forbidden(request, ctx, "Invalid or missing CSRF token: reload the "
                                     "page and try again."))
        return ctx
    return check


def _forbidden(request: Request, ctx: Ctx | None, why: str) -> HTMLResponse:
    return _render(request, "error.html", 403, ctx=ctx, title="Forbidden", message=why)


Viewer = Annotated[Ctx, Depends(need("viewer"))]
PlannerPost = Annotated[Ctx, Depends(post("planner"))]
AnyPost = Annotated[Ctx, Depends(post("viewer"))]


def _router() -> APIRouter:
    r = APIRouter(include_in_schema=False)
    _auth_routes(r)
    _page_routes(r)
    _action_routes(r)
    from stockpilot.web.network_pages import add_routes

    add_routes(r, _render, _web, Viewer, PlannerPost)
    from stockpilot.web import pipeline_pages

    pipeline_pages.add_routes(r, _render, _web, Viewer)
    from stockpilot.web import worklist_pages

    worklist_pages.add_routes(r, _render, _web, Viewer)
    from stockpilot.web import supplier_pages

    supplier_pages.add_routes(r, _render, _web, lambda request: not _on_loopback(request))
    from stockpilot.web import orders_pages

    orders_pages.add_routes(r, _render, _web, Viewer, PlannerPost)
    from stockpilot.web import count_pages

    count_pages.add_routes(r, _render, _web, need, post)
    return r


def _safe_next(target: str | None) -> str:
    # only same-site paths: "//evil.example" or "https://…" would be an open redirect
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _auth_routes(r: APIRouter) -> None:
    @r.get("/login")
    def login_form(request: Request, next: str = "/") -> HTMLResponse:
        return _login_page(request, next, None)

    @r.post("/login")
    def login(request: Request, username: Annotated[str, Form()],
              password: Annotated[str, Form()], csrf_token: Annotated[str, Form()] = "",
              next: Annotated[str, Form()] = "/") -> Response:
        web = _web(request)
        if not web.sessions.login_token_ok(csrf_token, request.cookies.get(LOGIN_COOKIE)):
            return _login_page(request, next, "The form expired: please sign in again.", 403)
        user = authenticate(web.src.engine, username, password)
        if user is None:
            return _login_page(request, next, "Wrong user name or password.", 401)
        resp = RedirectResponse(_safe_next(next), 303)
        resp.set_cookie(SESSION_COOKIE, web.sessions.start(user), httponly=True,
                        samesite="lax", secure=not _on_loopback(request),
                        max_age=int(LIFETIME.total_seconds()), path="/")
        resp.delete_cookie(LOGIN_COOKIE, path="/login")
        return resp

    @r.post("/logout")
    def logout(request: Request, ctx: AnyPost) -> Response:
        del ctx
        _web(request).sessions.end(request.cookies.get(SESSION_COOKIE))
        resp = RedirectResponse("/login", 303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp


def _login_page(request: Request, target: str, error: str | None,
                code: int = 200) -> HTMLResponse:
    form_value, cookie = _web(request).sessions.login_token()
    resp = _render(request, "login.html", code, ctx=None, csrf=form_value,
                   next=_safe_next(target), error=error)
    resp.set_cookie(LOGIN_COOKIE, cookie, httponly=True, samesite="strict",
                    secure=not _on_loopback(request), path="/login", max_age=3600)
    return resp


def _page_routes(r: APIRouter) -> None:
    @r.get("/")
    def overview(request: Request, ctx: Viewer) -> HTMLResponse:
        from stockpilot.web.worklist_pages import money_of

        src = _web(request).src
        return _render(request, "overview.html", ctx=ctx, page="overview",
                       k=kpis.overview(src, ctx.user), money=money_of(request, src))

    @r.get("/ui/sku")
    def find_sku(request: Request, ctx: Viewer, q: str = "") -> Response:
        # an exact id opens the SKU; anything else (empty: every SKU) is the SKU worklist
        found = data.search_skus(_web(request).src, ctx.user, q) if q else []
        if len(found) == 1 and found[0]["sku"].lower() == q.lower():
            return RedirectResponse(f"/ui/sku/{quote(found[0]['sku'], safe='')}", 303)
        return RedirectResponse("/ui/lists/skus" + (f"?q={quote(q)}" if q else ""), 303)

    @r.get("/ui/sku/{sku}")
    def sku_page(request: Request, sku: str, ctx: Viewer,
                 location: str | None = None) -> HTMLResponse:
        try:
            view = data.sku_page(_web(request).src, ctx.user, sku, location)
        except StockpilotError as exc:
            return _render(request, "error.html", 404, ctx=ctx, title="Not found",
                           message=str(exc))
        from stockpilot.web.worklist_pages import money_of

        return _render(request, "sku.html", ctx=ctx, page="sku", v=view,
                       money=money_of(request, _web(request).src))

    @r.get("/ui/alerts")
    def alerts(request: Request, ctx: Viewer) -> HTMLResponse:
        from stockpilot.web.worklist_pages import money_of, view

        src = _web(request).src
        params = {k: v for k, v in request.query_params.items() if (k, v) != ("status", "open")}
        try:
            v = view(src, ctx.user, money_of(request, src), "alerts", params)
        except StockpilotError as exc:
            return _render(request, "error.html", exc.status, ctx=ctx, title=exc.title,
                           message=str(exc))
        return _render(request, "alerts.html", ctx=ctx, page="alerts", v=v)

    @r.get("/ui/simulation")
    def simulation(request: Request, ctx: Viewer) -> HTMLResponse:
        rows = _web(request).src.simulation(ctx.user)
        return _render(request, "simulation.html", ctx=ctx, page="simulation", rows=rows)

    @r.get("/ui/recommendations")
    def recommendations(request: Request, ctx: Viewer, customer: str = "") -> HTMLResponse:
        from stockpilot.web.actions import recommend

        result = recommend(_web(request).src, ctx.user, customer) if customer else None
        return _render(request, "recommend.html", ctx=ctx, page="recommend",
                       customer=customer, result=result)


def _action_routes(r: APIRouter) -> None:
    @r.post("/ui/alerts/{alert_id}/{action}")
    def alert_action(request: Request, alert_id: int, action: str,
                     ctx: PlannerPost) -> Response:
        from stockpilot.web.actions import alert_row, set_alert

        engine = _web(request).src.engine
        if action not in ("ack", "resolve") or not set_alert(engine, ctx.user, alert_id, action):
            return _render(request, "error.html", 404, ctx=ctx, title="Not found",
                           message=f"no alert {alert_id} at your locations")
        if request.headers.get("hx-request"):
            return _render(request, "_alert_row.html", ctx=ctx,
                           a=alert_row(engine, ctx.user, alert_id))
        return RedirectResponse("/ui/alerts", 303)
