"""What the order pages show: editable suggestion lines, purchase orders, the audit trail.

Thin: every read and write is a use case (scoped to the user's locations there); this module
pages and groups for the templates.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from stockpilot.errors import NotFound
from stockpilot.store.uow import reading, writing
from stockpilot.usecases import audit, catalogue, orders, planning, suggestions
from stockpilot.usecases.actor import Actor
from stockpilot.usecases.paging import PageRequest

if TYPE_CHECKING:
    from stockpilot.web.data import Sources

PAGE_LINES = 100  # lines per page of /ui/orders (every line is reachable by paging)
EDITS = ("quantity", "drop", "snooze", "restore")


@dataclass(frozen=True)
class LinesPage:
    """One page of suggestion lines grouped by supplier, with per-supplier totals."""

    groups: dict[str, list[dict[str, Any]]]
    totals: dict[str, dict[str, Any]]
    total: int
    offset: int
    limit: int
    suppliers: list[str]


def _lines(src: Sources, user: Actor) -> pl.DataFrame:
    plan = planning.latest_plan(src.store, user)
    with reading(src.engine) as uow:
        df = suggestions.effective_lines(uow, user, plan)
        names = catalogue.sku_names(uow, user)
    return df.with_columns(pl.col("sku").replace_strict(names, default="", return_dtype=pl.Utf8)
                           .alias("name"))


def lines_page(src: Sources, user: Actor, supplier: str | None, offset: int,
               limit: int = PAGE_LINES) -> LinesPage:
    """Lines (largest value first within a supplier), one page; empty without a plan."""
    try:
        df = _lines(src, user)
    except NotFound:
        return LinesPage({}, {}, 0, 0, limit, [])
    every = sorted(df["supplier"].unique().to_list())
    if supplier:
        df = df.filter(pl.col("supplier") == supplier)
    totals = {r["supplier"]: r for r in df.group_by("supplier").agg(
        pl.len().alias("lines"), pl.col("order_qty").sum().alias("units"),
        pl.col("order_value").sum().alias("value"),
        pl.col("po_id").is_null().sum().alias("open_lines"),
        pl.col("po_id").drop_nulls().unique().sort().alias("po_ids")).iter_rows(named=True)}
    df = df.sort(["supplier", "order_value", "sku", "location"],
                 descending=[False, True, False, False], nulls_last=True)
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in df.slice(offset, limit).iter_rows(named=True):
        groups.setdefault(r["supplier"], []).append(r)
    return LinesPage(groups, totals, df.height, offset, limit, every)


def supplier_block(src: Sources, user: Actor, supplier: str) -> LinesPage:
    """Every line of one supplier (the block swapped in place after an approval)."""
    return lines_page(src, user, supplier, 0, 10_000)


def line(src: Sources, user: Actor, sku: str, location: str) -> dict[str, Any] | None:
    """One line as shown (None when dropped or snoozed)."""
    df = _lines(src, user).filter((pl.col("sku") == sku) & (pl.col("location") == location))
    return df.row(0, named=True) if df.height else None


def edit(src: Sources, user: Actor, sku: str, location: str, action: str,
         form: dict[str, str]) -> None:
    """Apply one edit from a form: quantity (+ note), drop, snooze (until), restore."""
    plan = planning.latest_plan(src.store, user)
    note = form.get("note") or None
    with writing(src.engine) as uow:
        if action == "quantity":
            suggestions.set_quantity(uow, user, plan, sku, location,
                                     _int(form.get("quantity")), note)
        elif action == "drop":
            suggestions.drop(uow, user, plan, sku, location, note)
        elif action == "snooze":
            suggestions.snooze(uow, user, sku, location, _date(form.get("until")), note)
        else:
            suggestions.restore(uow, user, plan, sku, location)


def order_once(src: Sources, user: Actor, form: dict[str, str]) -> None:
    """Add a line for a SKU the plan does not suggest."""
    plan = planning.latest_plan(src.store, user)
    with writing(src.engine) as uow:
        suggestions.order_once(uow, user, plan, form.get("sku", "").strip(),
                               form.get("location", "").strip(), _int(form.get("quantity")),
                               form.get("note") or None)


def approve(src: Sources, user: Actor, supplier: str, picked: list[str], currency: str
            ) -> Any:
    """Approve the picked lines (``sku|location``) of a supplier, or all of them."""
    plan = planning.latest_plan(src.store, user)
    lines = [tuple(p.split("|", 1)) for p in picked if "|" in p] if picked else None
    with writing(src.engine) as uow:
        return suggestions.approve(uow, user, plan, suppliers=[supplier],
                                   lines=lines,  # type: ignore[arg-type]
                                   currency=currency)


def _int(value: str | None) -> int:
    from stockpilot.errors import StockpilotError

    try:
        return int(str(value).strip())
    except ValueError:
        raise StockpilotError(f"quantity must be a whole number, got {value!r}") from None


def _date(value: str | None) -> date:
    from stockpilot.errors import StockpilotError

    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise StockpilotError(f"snooze until: a date (YYYY-MM-DD), got {value!r}") from None


# --- purchase orders ---------------------------------------------------------------------

def order_list(src: Sources, user: Actor, label: str | None, offset: int,
               limit: int = 100) -> tuple[list[dict[str, Any]], int]:
    """Purchase orders the user sees (every line at their locations), newest first."""
    with reading(src.engine) as uow:
        return orders.order_list(uow, user, PageRequest(limit, offset, "-id"),
                                 label=label or None)


def order_page(src: Sources, user: Actor, po_id: int) -> dict[str, Any]:
    """A PO, its audit trail and a fresh receipt id for the receive form."""
    with reading(src.engine) as uow:
        view = orders.order_view(uow, user, po_id)
        trail, _ = audit.trail(uow, user, PageRequest(200, 0), po_id=po_id)
    return {"po": view, "trail": trail, "receipt_id": uuid.uuid4().hex[:16]}


def receive(src: Sources, user: Actor, po_id: int, form: Any, tolerance: float) -> None:
    """Receive from the PO page's form: ``qty-<line>``, ``lot-<line>``, ``expiry-<line>``."""
    units: dict[int, int] = {}
    lots: dict[int, tuple[str, date]] = {}
    for key, value in form.items():
        if key.startswith("qty-") and str(value).strip() not in ("", "0"):
            units[int(key[4:])] = _int(value)
    for n in units:
        code, expiry = form.get(f"lot-{n}"), form.get(f"expiry-{n}")
        if code and expiry:
            lots[n] = (str(code), _date(expiry))
    with writing(src.engine) as uow:
        orders.receive(uow, user, po_id, units, receipt_id=str(form.get("receipt_id")),
                       lots=lots, tolerance=tolerance,
                       confirm_over=form.get("confirm_over") == "on")


def trail(src: Sources, user: Actor, sku: str | None, location: str | None,
          po_id: int | None) -> list[dict[str, Any]]:
    """The newest 500 audit rows for a SKU(-location) or an order."""
    with reading(src.engine) as uow:
        return audit.trail(uow, user, PageRequest(500, 0), sku=sku, location=location,
                           po_id=po_id)[0]
