"""Worklists: SKUs, alerts, overstock and slow movers, expiring lots, suggestions.

The same list query as the dashboard and the CLI (:mod:`stockpilot.usecases.worklists`):
filter by supplier, location, class, status and text, sort (default: urgency), page, and
export the whole filtered list as CSV or XLSX. Only the key's locations are listed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from stockpilot.api.deps import Ctx, Paged, Viewer
from stockpilot.api.problems import COMMON
from stockpilot.api.schemas import Out
from stockpilot.usecases import worklists
from stockpilot.usecases.money import currencies
from stockpilot.usecases.worklist_export import FORMATS, export

router = APIRouter(prefix="/worklists", tags=["worklists"], responses=COMMON)
ListName = Literal["skus", "alerts", "overstock", "expiring", "suggestions"]
Text = Annotated[str | None, Query(max_length=200)]
Sort = Annotated[str, Query(max_length=200, description=(
    "Comma-separated columns, '-' for descending, or `urgency` (status, then days of cover "
    "minus lead time). Default: urgency (expiring: expiry; overstock: -excess_value)."))]
Status = Annotated[str | None, Query(max_length=40, description=(
    "skus/overstock/suggestions: out, stockout, reorder, overstock, ok, slow (the KPI "
    "definitions); alerts: open (default: open and acked), acked, resolved, all"))]


class WorklistPage(Out):
    """One page of a worklist. Money columns are rounded to the currency's minor unit."""

    worklist: str
    items: list[dict[str, Any]] = Field(description="rows, the list's columns in order")
    columns: list[str]
    total: int
    limit: int
    offset: int
    sort: str
    currency: str = Field(description="ISO 4217 code of the money columns (workspace's)")


def _query(paging: Any, supplier: str | None, location: str | None, klass: str | None,
           status: str | None, q: str | None, sort: str) -> worklists.ListQuery:
    return worklists.ListQuery(supplier, location, klass, status, q, sort,
                               paging.limit if paging else 50, paging.offset if paging else 0)


@router.get("/{name}")
def list_worklist(name: ListName, who: Viewer, ctx: Ctx, paging: Paged,
                  supplier: Text = None, location: Text = None, klass: Text = None,
                  status: Status = None, q: Text = None, sort: Sort = "") -> WorklistPage:
    """One page of a worklist at the key's locations."""
    money = currencies(ctx.settings, ctx.history)
    with ctx.uow() as uow:
        page = worklists.query(name, uow, ctx.artifacts, who,
                               _query(paging, supplier, location, klass, status, q, sort),
                               money)
    return WorklistPage(worklist=name, items=page.items, columns=list(page.spec.columns),
                        total=page.total, limit=paging.limit, offset=paging.offset,
                        sort=page.query.sort, currency=page.currency)


@router.get("/{name}/export", response_class=Response, responses={200: {"content": {
    t: {} for t in FORMATS.values()}, "description": "the whole filtered list as a file"}})
def export_worklist(name: ListName, who: Viewer, ctx: Ctx,
                    format: Literal["csv", "xlsx"] = "csv", supplier: Text = None,
                    location: Text = None, klass: Text = None, status: Status = None,
                    q: Text = None, sort: Sort = "") -> Response:
    """The whole filtered, sorted worklist as CSV or XLSX (the same columns as its pages)."""
    money = currencies(ctx.settings, ctx.history)
    with ctx.uow() as uow:
        spec, rows = worklists.export_rows(
            name, uow, ctx.artifacts, who,
            _query(None, supplier, location, klass, status, q, sort), money)
    return Response(export(rows, spec.columns, format, spec.title), media_type=FORMATS[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'})
