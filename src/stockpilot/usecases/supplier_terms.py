"""What a supplier's terms say about ordering a SKU: unit cost, lead time, its e-mail address."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, select

from stockpilot.errors import NotFound
from stockpilot.store import schema as t


@dataclass(frozen=True)
class Terms:
    """One SKU's terms with one supplier (``unit_cost`` falls back to the SKU's cost)."""

    unit_cost: float | None
    lead_time_days: int | None


def terms_of(conn: Connection, supplier: str, skus: Iterable[str]) -> dict[str, Terms]:
    """``sku → Terms`` for the SKUs (a SKU without supplier terms gets its catalogue cost)."""
    wanted = sorted(set(skus))
    si, s = t.supplier_items.c, t.skus.c
    out = {r.sku: Terms(None if r.unit_cost is None else float(r.unit_cost), None)
           for r in conn.execute(select(s.sku, s.unit_cost).where(s.sku.in_(wanted)))}
    rows = conn.execute(select(si.sku, si.unit_cost, si.lead_time_days)
                        .where(si.supplier == supplier, si.sku.in_(wanted)))
    for r in rows:
        cost = float(r.unit_cost) if r.unit_cost is not None else out.get(r.sku, Terms(
            None, None)).unit_cost
        out[r.sku] = Terms(cost, int(r.lead_time_days))
    return out


def expected_date(today: date, terms: Iterable[Terms]) -> date | None:
    """When an order of these lines is due: today plus the longest stated lead time."""
    days = [x.lead_time_days for x in terms if x.lead_time_days is not None]
    return today + timedelta(days=max(days)) if days else None


def primary_supplier(conn: Connection, sku: str) -> str:
    """The SKU's primary supplier (:class:`NotFound` when no supplier sells it)."""
    si = t.supplier_items.c
    row = conn.execute(select(si.supplier).where(si.sku == sku)
                       .order_by(si.is_primary.desc(), si.supplier)).first()
    if row is None:
        raise NotFound(f"no supplier terms for SKU {sku!r}: import suppliers first")
    return str(row.supplier)


def supplier_email(conn: Connection, supplier: str) -> str | None:
    """The supplier's e-mail address from the supplier import (None when not given)."""
    return conn.execute(select(t.suppliers.c.email)
                        .where(t.suppliers.c.supplier == supplier)).scalar()
