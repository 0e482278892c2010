"""Catalogue upserts: SKUs, locations, suppliers and supplier terms (all-or-nothing per call)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, select, update

from stockpilot.store import schema as t
from stockpilot.store.db import dialect_insert


def _upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert new rows and update existing ones by primary key; returns rows written.

    Only the columns a row names are updated; rows naming different columns are written in
    separate statements so one row's omissions never reset another's values.
    """
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(sorted(r)), []).append(r)
    for group in groups.values():
        _upsert_same_keys(conn, table, group)
    return len(rows)


def _upsert_same_keys(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    pk = [c.name for c in table.primary_key.columns]
    cols = [c for c in rows[0] if c not in pk and c != "created_at"]
    stmt = dialect_insert(conn, table)
    if cols:
        stmt = stmt.on_conflict_do_update(index_elements=pk,
                                          set_={c: stmt.excluded[c] for c in cols})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=pk)
    conn.execute(stmt, rows)


def _stamp(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [{**r, "created_at": r.get("created_at") or now} for r in rows]


def upsert_skus(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """SKUs: sku, name, category, unit_cost, price, shelf_life_days, lot_tracked."""
    return _upsert(conn, t.skus, _stamp(rows))


def upsert_locations(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Locations: location, name, kind, allows_backorders (copied onto its stock rows)."""
    n = _upsert(conn, t.locations, _stamp(rows))
    for r in rows:
        if "allows_backorders" in r:
            conn.execute(update(t.stock).where(t.stock.c.location == r["location"])
                         .values(allows_backorders=r["allows_backorders"]))
    return n


def upsert_suppliers(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Suppliers: supplier, name, email."""
    return _upsert(conn, t.suppliers, _stamp(rows))


def upsert_supplier_items(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Supplier terms per SKU: lead_time_days, moq, pack_size, order_cost, unit_cost."""
    return _upsert(conn, t.supplier_items, list(rows))


def existing(conn: Connection, table: Table, column: str, values: set[str]) -> set[str]:
    """Which of ``values`` exist in ``table.column``."""
    col = table.c[column]
    found: set[str] = set()
    vals = sorted(values)
    for i in range(0, len(vals), 900):
        found |= set(conn.execute(select(col).where(col.in_(vals[i:i + 900]))).scalars())
    return found
