"""Dashboard pages of purchasing: suggestions, purchase orders, the audit trail.

``/ui/orders`` (editable suggestions), ``/ui/purchase-orders`` (a list, a page per order),
``/ui/audit`` (who changed what).

Edits and approvals answer the changed row or supplier block to htmx (swapped in place) and
redirect without JavaScript. Everything goes through the use cases, scoped to the user.
"""

# No ``from __future__ import annotations``: FastAPI must see the dependencies passed in at
# run time, not their names as strings.
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stockpilot.errors import StockpilotError
from stockpilot.store.uow import reading
from stockpilot.usecases.alert_refresh import refresh_after_approval
from stockpilot.usecases.leadtimes import lead_time_report
from stockpilot.web import orders_data as od


def _settings(request: Request) -> Any:
    api = getattr(request.app.state, "api", None)
    if api is not None:
        return api.settings.purchasing
    from stockpilot.config import PurchasingSettings

    return PurchasingSettings()


def _ids(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.isdigit()]


def add_routes(r: APIRouter, render: Callable[..., HTMLResponse], web_of: Callable[..., Any],
               viewer: Any, planner_post: Any) -> None:
    """Register the purchasing pages (receiving needs the operator role: the use case checks)."""

    def fail(request: Request, ctx: Any, exc: StockpilotError) -> HTMLResponse:
        return render(request, "error.html", exc.status, ctx=ctx, title=exc.title,
                      message=str(exc))

    @r.get("/ui/orders")
    def orders_page(request: Request, ctx: viewer, supplier: str = "", offset: int = 0,
                    approved: str = "", created: str = "") -> HTMLResponse:
        src = web_of(request).src
        lines = od.lines_page(src, ctx.user, supplier or None, max(0, offset))
        with reading(src.engine) as uow:
            lead = lead_time_report(uow).to_dicts()
        return render(request, "orders.html", ctx=ctx, page="orders", lp=lines,
                      supplier=supplier, lead_times=lead,
                      rows=od.order_list(src, ctx.user, None, 0, 20)[0],
                      approved=_ids(approved), created=_ids(created))

    @r.post("/ui/orders/lines/{sku}/{location}/{action}")
    async def edit_line(request: Request, sku: str, location: str, action: str,
                        ctx: planner_post) -> Response:
        src = web_of(request).src
        form = {k: str(v) for k, v in (await request.form()).items()}
        if action not in od.EDITS:
            return fail(request, ctx, StockpilotError(f"unknown edit {action!r}"))
        try:
            od.edit(src, ctx.user, sku, location, action, form)
        except StockpilotError as exc:
            return fail(request, ctx, exc)
        if not request.headers.get("hx-request"):
            return RedirectResponse("/ui/orders", 303)
        row = od.line(src, ctx.user, sku, location)
        return render(request, "_order_line.html", ctx=ctx, r=row,
                      gone={"sku": sku, "location": location, "why": action})

    @r.post("/ui/orders/once")
    async def order_once(request: Request, ctx: planner_post) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            od.order_once(web_of(request).src, ctx.user, form)
        except StockpilotError as exc:
            return fail(request, ctx, exc)
        return RedirectResponse("/ui/orders", 303)

    @r.post("/ui/orders/approve")
    async def approve(request: Request, ctx: planner_post) -> Response:
        src = web_of(request).src
        form = await request.form()
        supplier = str(form.get("supplier", ""))
        picked = [str(v) for v in form.getlist("line")] if form.get("mode") == "selected" \
            else []
        if form.get("mode") == "selected" and not picked:
            return fail(request, ctx, StockpilotError("tick the lines to approve first"))
        try:
            done = od.approve(src, ctx.user, supplier, picked, _settings(request).currency)
            refresh_after_approval(src.engine, src.history, done.created)
        except StockpilotError as exc:
            return fail(request, ctx, exc)
        if request.headers.get("hx-request"):
            return render(request, "_supplier_block.html", ctx=ctx, supplier=supplier,
                          lp=od.supplier_block(src, ctx.user, supplier), done=done)
        ids, new = (",".join(map(str, x)) for x in (done.purchase_orders, done.created))
        return RedirectResponse(f"/ui/orders?approved={ids}&created={new}", 303)

    _po_routes(r, render, web_of, viewer, planner_post, fail)


def _po_routes(r: APIRouter, render: Callable[..., HTMLResponse], web_of: Callable[..., Any],
               viewer: Any, planner_post: Any,
               fail: Callable[..., HTMLResponse]) -> None:
    @r.get("/ui/purchase-orders")
    def po_list(request: Request, ctx: viewer, status: str = "", offset: int = 0
                ) -> HTMLResponse:
        try:
            rows, total = od.order_list(web_of(request).src, ctx.user, status, max(0, offset))
        except StockpilotError as exc:
            return fail(request, ctx, exc)
        return render(request, "purchase_orders.html", ctx=ctx, page="purchase-orders",
                      rows=rows, total=total, status=status, offset=offset)

    @r.get("/ui/purchase-orders/{po_id}")
    def po_page(request: Request, po_id: int, ctx: viewer, msg: str = "") -> HTMLResponse:
        try:
            got = od.order_page(web_of(request).src, ctx.user, po_id)
        except StockpilotError as exc:
            return fail(request, ctx, exc)
        return render(request, "purchase_order.html", ctx=ctx, page="purchase-orders",
                      msg=msg, **got)

    @r.get("/ui/purchase-orders/{po_id}/document.{fmt}")
    def po_document(request: Request, po_id: int, fmt: str, ctx: viewer) -> Response:
        from stockpilot.usecases import po_documents

        try:
            view = od.order_page(web_of(request).src, ctx.user, po_id)["po"]
        except StockpilotError as exc:
            return fail(request, ctx, exc)
        if fmt not in ("pdf", "csv"):
            return fail(request, ctx, StockpilotError("documents are pdf or csv"))
        body = po_documents.to_pdf(view) if fmt == "pdf" else po_documents.to_csv(view)
        return Response(body, media_type="application/pdf" if fmt == "pdf" else "text/csv",
                        headers={"Content-Disposition": 'attachment; filename="'
                                 f'{po_documents.filename(view, fmt)}"'})

    @r.post("/ui/purchase-orders/{po_id}/{action}")
    async def po_action(request: Request, po_id: int, action: str, ctx: planner_post
                        ) -> Response:
        src = web_of(request).src
        form = await request.form()
        cfg = _settings(request)
        try:
            msg = _po_action(src, ctx.user, po_id, action, form, cfg)
        except StockpilotError as exc:
            return fail(request, ctx, exc)
        return RedirectResponse(f"/ui/purchase-orders/{po_id}?msg={quote(msg)}", 303)

    @r.get("/ui/audit")
    def audit_page(request: Request, ctx: viewer, sku: str = "", location: str = "",
                   po_id: int | None = None) -> HTMLResponse:
        rows = od.trail(web_of(request).src, ctx.user, sku or None, location or None, po_id)
        return render(request, "audit.html", ctx=ctx, page="orders", rows=rows, sku=sku,
                      location=location, po_id=po_id)


def _po_action(src: Any, user: Any, po_id: int, action: str, form: Any, cfg: Any) -> str:
    """Send, mark sent, receive or cancel; answers the message shown on the PO page."""
    from stockpilot.store.uow import writing
    from stockpilot.usecases import orders, po_documents

    if action == "email":
        view = po_documents.email_order(src.engine, user, po_id, cfg.smtp_host, cfg.smtp_port,
                                        cfg.email_from)
        return f"Sent to {view.sent_to}."
    if action == "receive":
        od.receive(src, user, po_id, form, cfg.over_receipt_tolerance)
        return "Receipt posted."
    with writing(src.engine) as uow:
        if action == "mark-sent":
            orders.mark_sent(uow, user, po_id, str(form.get("to") or "manual"), "manual")
            return "Marked as sent."
        if action == "cancel":
            orders.cancel(uow, user, po_id, str(form.get("reason") or "") or None)
            return "Cancelled."
    raise StockpilotError(f"unknown action {action!r}")
