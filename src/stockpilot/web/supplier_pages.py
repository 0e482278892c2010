"""The supplier portal (``/supplier/ui``): a supplier user's own stock, forecast, plan and ASNs.

Supplier users sign in here with their own sessions (``supplier_sessions``), never the shop's;
the shop's pages do not know them and these pages show only the supplier's items (the use
cases in :mod:`stockpilot.usecases.vmi` do the scoping). Posts carry the session's CSRF token.
"""

# No ``from __future__ import annotations``: FastAPI reads the signatures at run time.
import secrets
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stockpilot.errors import StockpilotError
from stockpilot.web.sessions import csrf_ok

COOKIE = "stockpilot_supplier"
LOGIN_COOKIE = "stockpilot_supplier_login"
BASE = "/supplier/ui"


def add_routes(r: APIRouter, render: Callable[..., HTMLResponse], web_of: Callable[..., Any],
               secure: Callable[[Request], bool]) -> None:
    """Register the portal's login, page, ASN form and logout on the router."""
    from stockpilot.store.uow import reading, writing
    from stockpilot.usecases import vmi, vmi_auth

    def login_page(request: Request, error: str | None, code: int = 200) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        resp = render(request, "supplier_login.html", code, ctx=None, csrf=token, error=error)
        resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=secure(request), path=BASE, max_age=3600)
        return resp

    @r.get(BASE + "/login")
    def login_form(request: Request) -> HTMLResponse:
        return login_page(request, None)

    @r.post(BASE + "/login")
    def login(request: Request, username: Annotated[str, Form()],
              password: Annotated[str, Form()], csrf_token: Annotated[str, Form()] = ""
              ) -> Response:
        engine = web_of(request).src.engine
        if not csrf_ok(request.cookies.get(LOGIN_COOKIE) or "", csrf_token):
            return login_page(request, "The form expired: please sign in again.", 403)
        with reading(engine) as uow:
            found = vmi_auth.authenticate_supplier_user(uow, username, password)
        if found is None:
            return login_page(request, "Wrong user name or password.", 401)
        with writing(engine) as uow:
            token, _ = vmi_auth.start_session(uow, found[0])
        resp = RedirectResponse(BASE, 303)
        resp.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure(request),
                        path="/supplier", max_age=int(vmi_auth.SESSION_LIFETIME.total_seconds()))
        return resp

    def who(request: Request) -> tuple[Any, str] | None:
        with reading(web_of(request).src.engine) as uow:
            return vmi_auth.resolve_session(uow, request.cookies.get(COOKIE))

    @r.get(BASE)
    def portal(request: Request, proposed: str = "") -> Response:
        got = who(request)
        if got is None:
            return RedirectResponse(BASE + "/login", 303)
        scope, csrf = got
        src = web_of(request).src
        with reading(src.engine) as uow:
            return render(request, "supplier.html", ctx=None, supplier=scope.supplier,
                          user=scope.name, csrf=csrf, stock=vmi.supplier_stock(uow, scope),
                          forecasts=vmi.supplier_forecasts(uow, src.history, scope),
                          plan=vmi.supplier_plan(uow, src.history, scope),
                          asns=vmi.supplier_asns(uow, scope), proposed=proposed,
                          error=None)

    @r.post(BASE + "/asn")
    def propose(request: Request, sku: Annotated[str, Form()],
                location: Annotated[str, Form()], quantity: Annotated[int, Form(ge=1)],
                csrf_token: Annotated[str, Form()] = "",
                expected_at: Annotated[str, Form()] = "") -> Response:
        got = who(request)
        if got is None:
            return RedirectResponse(BASE + "/login", 303)
        scope, csrf = got
        if not csrf_ok(csrf, csrf_token):
            return render(request, "error.html", 403, ctx=None, title="Forbidden",
                          message="Invalid or missing CSRF token: reload the page.")
        try:
            when = date.fromisoformat(expected_at) if expected_at else None
            with writing(web_of(request).src.engine) as uow:
                res = vmi.propose_asn(uow, scope, [vmi.AsnLine(sku, location, quantity)],
                                      expected_at=when)
        except (StockpilotError, ValueError) as exc:
            status = getattr(exc, "status", 400)
            return render(request, "error.html", status, ctx=None, title="Not accepted",
                          message=str(exc))
        return RedirectResponse(f"{BASE}?proposed={res.asn_id}", 303)

    @r.post(BASE + "/logout")
    def logout(request: Request) -> Response:
        with writing(web_of(request).src.engine) as uow:
            vmi_auth.end_session(uow, request.cookies.get(COOKIE))
        resp = RedirectResponse(BASE + "/login", 303)
        resp.delete_cookie(COOKIE, path="/supplier")
        return resp
