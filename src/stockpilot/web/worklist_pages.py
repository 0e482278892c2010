"""Dashboard worklists: SKUs, alerts, overstock and slow movers, expiring lots, suggestions.

Each is one page at ``/ui/lists/<name>``: filters (supplier, location, class, status, text),
sortable column headings, pages of :data:`PAGE_ROWS`, and the same filtered list as CSV or
XLSX at ``/ui/lists/<name>/export``. Rows come from :mod:`stockpilot.usecases.worklists`, the
list query the API and the CLI use, limited to the user's locations. Below 48rem the tables
become one card per row (no sideways scrolling on a phone).
"""

# No ``from __future__ import annotations`` here: FastAPI must see the ``viewer`` dependency
# passed in at run time, not its name as a string.
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from stockpilot.config import Settings
from stockpilot.errors import StockpilotError
from stockpilot.store.uow import reading
from stockpilot.usecases import kpis, worklists
from stockpilot.usecases.money import Currencies, currencies
from stockpilot.usecases.worklist_export import FORMATS, export

PAGE_ROWS = 50
FILTERS = ("supplier", "location", "klass", "status", "q")
LABELS = {"sku": "SKU", "name": "Name", "location": "Location", "supplier": "Supplier",
          "klass": "Class", "on_hand": "On hand", "available": "Available",
          "on_order": "On order", "days_of_cover": "Days of cover",
          "forecast_per_day": "Forecast/day", "lead_days": "Lead time (d)",
          "reorder_point": "Reorder point", "order_up_to": "Order-up-to",
          "unit_cost": "Unit cost", "stock_value": "Stock value", "status": "Status",
          "id": "#", "severity": "Severity", "rule": "Rule", "alert_status": "Alert",
          "stock_status": "Stock", "message": "Message", "created_at": "Raised",
          "excess_units": "Excess units", "excess_value": "Excess value", "slow": "Slow mover",
          "lot_code": "Lot", "expiry": "Expiry", "days_left": "Days left",
          "sells_before_expiry": "Sells before expiry", "at_risk_units": "At risk (units)",
          "at_risk_value": "At risk value", "order_qty": "Order qty",
          "order_value": "Order value", "reason": "Why"}


def money_of(request: Request, src: Any) -> Currencies:
    """The workspace's currencies (settings of the app's API context, else the defaults)."""
    api = getattr(request.app.state, "api", None)
    settings = api.settings if api is not None else Settings()
    return currencies(settings, src.history)


def _query(params: dict[str, str], limit: int = PAGE_ROWS) -> worklists.ListQuery:
    def num(name: str) -> int:
        value = params.get(name, "")
        return int(value) if value.isdigit() else 0
    given = {f: params.get(f) or None for f in FILTERS}
    return worklists.ListQuery(**given, sort=params.get("sort", ""), limit=limit,
                               offset=num("offset"))


def _link(params: dict[str, str], **change: Any) -> str:
    merged = {**params, **{k: str(v) for k, v in change.items()}}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in ("", None)})


def view(src: Any, user: Any, money: Currencies, name: str, params: dict[str, str]
         ) -> dict[str, Any]:
    """What the list page shows: the page, headings with their sort links, pager, exports."""
    q = _query(params)
    with reading(src.engine) as uow:
        page = worklists.query(name, uow, src.store, user, q, money)
    keep = {k: v for k, v in params.items() if k in (*FILTERS, "sort") and v}
    sort = page.query.sort
    heads = [{"col": c, "label": LABELS.get(c, c),
              "href": _link(keep, sort=f"-{c}" if sort == c else c, offset=""),
              "dir": "asc" if sort == c else "desc" if sort == f"-{c}" else ""}
             for c in page.spec.columns]
    sorts = [{"value": "urgency", "label": "urgency"}] + [
        {"value": f"{sign}{c}", "label": f"{LABELS.get(c, c)} {arrow}"}
        for c in page.spec.columns for sign, arrow in (("", "↑"), ("-", "↓"))]
    if all(s["value"] != sort for s in sorts):
        sorts.insert(0, {"value": sort, "label": sort})
    nxt = q.offset + q.limit
    return {"p": page, "heads": heads, "sorts": sorts, "params": keep, "lists": worklists.SPECS,
            "labels": kpis.STATUS_LABELS,
            "prev": _link(keep, offset=max(q.offset - q.limit, 0)) if q.offset else None,
            "next": _link(keep, offset=nxt) if nxt < page.total else None,
            "exports": {f: f"/ui/lists/{name}/export{_link(keep, format=f)}" for f in FORMATS},
            "first": q.offset + 1 if page.total else 0,
            "last": min(nxt, page.total)}


def add_routes(r: APIRouter, render: Callable[..., HTMLResponse], web: Callable[..., Any],
               viewer: Any) -> None:
    """Add the worklist pages to the dashboard's router."""
    @r.get("/ui/lists/{name}")
    def worklist(request: Request, name: str, ctx: viewer) -> HTMLResponse:
        src = web(request).src
        try:
            v = view(src, ctx.user, money_of(request, src), name, dict(request.query_params))
        except StockpilotError as exc:
            return render(request, "error.html", exc.status, ctx=ctx, title=exc.title,
                          message=str(exc))
        return render(request, "worklist.html", ctx=ctx, page=f"list-{name}", v=v,
                      money=money_of(request, src))

    @r.get("/ui/lists/{name}/export")
    def worklist_export(request: Request, name: str, ctx: viewer,
                        format: str = "csv") -> Response:
        src = web(request).src
        params = dict(request.query_params)
        try:
            with reading(src.engine) as uow:
                spec, rows = worklists.export_rows(name, uow, src.store, ctx.user,
                                                   _query(params), money_of(request, src))
            body = export(rows, spec.columns, format, spec.title)
        except StockpilotError as exc:
            return render(request, "error.html", exc.status, ctx=ctx, title=exc.title,
                          message=str(exc))
        return Response(body, media_type=FORMATS[format], headers={
            "Content-Disposition": f'attachment; filename="{name}.{format}"'})
