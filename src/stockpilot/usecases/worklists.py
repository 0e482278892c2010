"""Worklists: one list query (filters, sort, page, export) behind the dashboard, API and CLI.

A worklist is a frame of rows (:mod:`stockpilot.usecases.worklist_frames`) and a
:class:`ListSpec` saying which columns it shows and exports, which it sorts by and its default
order. :func:`query` filters (supplier, location, class, status, text), sorts (``urgency``
first by default: status, then days of cover minus lead time) and cuts one page;
:func:`export` writes the whole filtered list as CSV or XLSX. Every edge calls these, so the
same filter gives the same rows everywhere, only at the actor's locations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import polars as pl

from stockpilot.domain.money import minor_units
from stockpilot.store.artifacts import ArtifactStore
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import kpis
from stockpilot.usecases import worklist_frames as frames
from stockpilot.usecases.actor import Actor
from stockpilot.usecases.money import Currencies
from stockpilot.usecases.paging import InvalidQuery, parse_sort

MAX_LIMIT = 500
URGENCY = frames.URGENCY_ORDER
#: lists whose rows come from the stock table in its stored (urgency) order
PRESORTED = ("skus", "overstock", "suggestions")
MONEY = ("unit_cost", "stock_value", "excess_value", "order_value", "at_risk_value")
STOCK_STATUSES = (*kpis.STATUSES, "slow")


@dataclass(frozen=True)
class ListSpec:
    """What one worklist shows: its columns (in order), default sort, statuses it filters."""

    name: str
    title: str
    columns: tuple[str, ...]
    default_sort: str = "urgency"
    statuses: tuple[str, ...] = STOCK_STATUSES
    extra_sort: tuple[str, ...] = ()

    @property
    def sortable(self) -> list[str]:
        """Fields a ``sort`` may name."""
        return ["urgency", *self.columns, *self.extra_sort]


_STOCK = ("sku", "name", "location", "supplier", "klass", "on_hand", "available", "on_order",
          "days_of_cover", "forecast_per_day", "lead_days", "reorder_point", "order_up_to",
          "unit_cost", "stock_value", "status")
SPECS = {s.name: s for s in (
    ListSpec("skus", "SKUs", _STOCK),
    ListSpec("alerts", "Alerts", ("id", "severity", "rule", "sku", "name", "location",
                                  "supplier", "klass", "alert_status", "stock_status",
                                  "days_of_cover", "lead_days", "message", "created_at"),
             statuses=("open", "acked", "resolved", "all")),
    ListSpec("overstock", "Overstock and slow movers",
             ("sku", "name", "location", "supplier", "klass", "on_hand", "available",
              "on_order", "days_of_cover", "forecast_per_day", "order_up_to", "excess_units",
              "unit_cost", "excess_value", "slow", "status"), default_sort="-excess_value"),
    ListSpec("expiring", "Expiring lots",
             ("sku", "name", "location", "supplier", "klass", "lot_code", "expiry",
              "days_left", "on_hand", "forecast_per_day", "sells_before_expiry",
              "at_risk_units", "unit_cost", "at_risk_value"),
             default_sort="expiry,sku,location", statuses=()),
    ListSpec("suggestions", "Order suggestions",
             ("sku", "name", "location", "supplier", "klass", "available", "on_order",
              "days_of_cover", "lead_days", "reorder_point", "order_up_to", "order_qty",
              "unit_cost", "order_value", "status", "reason")),
)}


@dataclass(frozen=True)
class ListQuery:
    """Filters, sort and page of one worklist request (None or "" = no filter)."""

    supplier: str | None = None
    location: str | None = None
    klass: str | None = None
    status: str | None = None
    q: str | None = None
    sort: str = ""
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class ListPage:
    """One page of a worklist, its total, the choices its filters offer, the money unit."""

    spec: ListSpec
    query: ListQuery
    items: list[dict[str, Any]]
    total: int
    currency: str
    choices: dict[str, list[str]] = field(default_factory=dict)


def spec_of(name: str) -> ListSpec:
    """The spec of worklist ``name`` (:class:`InvalidQuery` naming the lists when unknown)."""
    if name not in SPECS:
        raise InvalidQuery(f"list: unknown worklist {name!r}; lists: {', '.join(SPECS)}")
    return SPECS[name]


def rows_of(name: str, uow: UnitOfWork, artifacts: ArtifactStore, actor: Actor,
            today: date | None = None) -> pl.DataFrame:
    """Every row of worklist ``name`` at the actor's locations (before filters)."""
    spec_of(name)
    stock_rows = frames.stock_table(uow, artifacts, actor, today)
    if name == "skus":
        return stock_rows
    if name == "overstock":
        return frames.overstock_table(stock_rows)
    if name == "suggestions":
        return frames.suggestion_table(stock_rows)
    if name == "alerts":
        return frames.alert_table(uow, actor, stock_rows)
    return frames.expiring_table(uow, actor, stock_rows, today)


def _status_filter(spec: ListSpec, status: str) -> pl.Expr:
    if status not in spec.statuses:
        raise InvalidQuery(f"status: {status!r} is not a status of the {spec.name} list; "
                           f"one of: {', '.join(spec.statuses) or '(none)'}")
    if spec.name == "alerts":
        return (pl.lit(True) if status == "all" else pl.col("alert_status") == status)
    if status == "slow":
        return pl.col("slow")
    return pl.col("status") == "ok" if status == "ok" else pl.col(f"is_{status}")


def filtered(spec: ListSpec, df: pl.DataFrame, q: ListQuery) -> pl.DataFrame:
    """The rows matching the query's filters (text: in SKU id or name, any case)."""
    for col in ("supplier", "location", "klass"):
        value = getattr(q, col)
        if value:
            df = df.filter(pl.col(col) == value)
    if spec.name == "alerts" and not q.status:
        df = df.filter(pl.col("alert_status").is_in(["open", "acked"]))
    if q.status:
        df = df.filter(_status_filter(spec, q.status))
    if q.q:
        text = q.q.strip().lower()
        df = df.filter(pl.col("sku").str.to_lowercase().str.contains(text, literal=True)
                       | pl.col("name").fill_null("").str.to_lowercase()
                       .str.contains(text, literal=True))
    return df


def ordered(spec: ListSpec, df: pl.DataFrame, sort: str) -> pl.DataFrame:
    """``df`` sorted by ``sort`` (``urgency`` expands to status, cover gap, SKU, location)."""
    names: list[str] = []
    desc: list[bool] = []
    terms = parse_sort(sort or spec.default_sort, spec.sortable)
    if terms == [("urgency", False)] and spec.name in PRESORTED:
        return df  # the stock table is stored in urgency order (a 300,000-row sort saved)
    for name, d in terms:
        expand = [c for c in URGENCY if c in df.columns] if name == "urgency" else [name]
        if spec.name == "alerts" and name == "urgency":
            expand = ["urgency", "stock_urgency", "cover_gap", "created_at"]
        names += expand
        desc += [d] * len(expand)
    return df.sort(names, descending=desc, nulls_last=True) if df.height else df


def query(name: str, uow: UnitOfWork, artifacts: ArtifactStore, actor: Actor, q: ListQuery,
          money: Currencies, today: date | None = None) -> ListPage:
    """One page of worklist ``name``: filtered, sorted, money rounded."""
    spec = spec_of(name)
    if not 1 <= q.limit <= MAX_LIMIT or q.offset < 0:
        raise InvalidQuery(f"limit: 1…{MAX_LIMIT}, offset ≥ 0 (got {q.limit}, {q.offset})")
    every = rows_of(name, uow, artifacts, actor, today)
    df = ordered(spec, filtered(spec, every, q), q.sort)
    page = df.slice(q.offset, q.limit)
    return ListPage(spec, replace(q, sort=q.sort or spec.default_sort),
                    shaped(spec, page, money), df.height, money.workspace, _choices(every))


def _choices(df: pl.DataFrame) -> dict[str, list[str]]:
    return {c: sorted(v for v in df[c].unique().to_list() if v is not None)
            for c in ("supplier", "location", "klass") if c in df.columns}


def _money_expr(col: str, money: Currencies, has_supplier: bool) -> pl.Expr:
    """``col`` rounded to the minor unit of each row's supplier currency (vectorised).

    Polars rounds the binary float half away from zero: the same as
    :func:`~stockpilot.domain.money.round_money` except at ties the float cannot hold
    exactly (2.675 is 2.67499…): a list of 300,000 rows cannot afford a Decimal per cell.
    """
    out = pl.col(col).round(minor_units(money.workspace))
    if has_supplier:
        for supplier, code in money.suppliers.items():
            out = pl.when(pl.col("supplier") == supplier).then(
                pl.col(col).round(minor_units(code))).otherwise(out)
    return out.alias(col)


def shaped_frame(spec: ListSpec, df: pl.DataFrame, money: Currencies) -> pl.DataFrame:
    """The spec's columns of ``df``, money rounded in the row's supplier currency."""
    cols = [c for c in spec.columns if c in df.columns]
    return df.select(cols).with_columns(
        [pl.col(c).round(1) for c in ("days_of_cover", "forecast_per_day") if c in cols]
        + [_money_expr(c, money, "supplier" in cols) for c in MONEY if c in cols])


def shaped(spec: ListSpec, df: pl.DataFrame, money: Currencies) -> list[dict[str, Any]]:
    """:func:`shaped_frame` as dicts (a page's rows)."""
    return shaped_frame(spec, df, money).to_dicts()


def export_rows(name: str, uow: UnitOfWork, artifacts: ArtifactStore, actor: Actor,
                q: ListQuery, money: Currencies, today: date | None = None
                ) -> tuple[ListSpec, pl.DataFrame]:
    """Every row of the filtered, sorted worklist (no paging), shaped as for a page."""
    spec = spec_of(name)
    df = ordered(spec, filtered(spec, rows_of(name, uow, artifacts, actor, today), q), q.sort)
    return spec, shaped_frame(spec, df, money)
