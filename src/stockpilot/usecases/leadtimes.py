"""Supplier lead times, stated vs measured: the queries behind ``stockpilot lead-times``.

Reads purchase-order receipts and the stated supplier terms and hands them to the pure
:func:`stockpilot.planning.supplier_leadtime.supplier_lead_times`.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import String, cast, literal, select

from stockpilot.planning.supplier_leadtime import supplier_lead_times
from stockpilot.store import schema as t
from stockpilot.store.uow import UnitOfWork


def load_receipts(uow: UnitOfWork) -> pl.DataFrame:
    """``supplier, po_id, sku, order_date, receipt_date, qty``: one row per receipt movement."""
    m, po = t.movements.c, t.purchase_orders.c
    q = (select(po.supplier, po.id, m.sku, po.created_at, m.occurred_at, m.on_hand_delta)
         .join_from(t.movements, t.purchase_orders,
                    m.reference == literal("PO ") + cast(po.id, String))
         .where(m.on_hand_delta > 0))
    rows = uow.conn.execute(q).all()
    df = pl.DataFrame(rows, orient="row", schema={
        "supplier": pl.Utf8, "po_id": pl.Int64, "sku": pl.Utf8, "created": pl.Datetime("us"),
        "at": pl.Datetime("us"), "qty": pl.Int64})
    return df.select("supplier", "po_id", "sku", pl.col("created").dt.date().alias("order_date"),
                     pl.col("at").dt.date().alias("receipt_date"), "qty")


def stated_terms(uow: UnitOfWork) -> pl.DataFrame:
    """``supplier, sku, lead_time_days`` as stated in the supplier terms."""
    si = t.supplier_items.c
    rows = uow.conn.execute(select(si.supplier, si.sku, si.lead_time_days)).all()
    return pl.DataFrame(rows, orient="row", schema={"supplier": pl.Utf8, "sku": pl.Utf8,
                                                    "lead_time_days": pl.Int64})


def lead_time_report(uow: UnitOfWork, supplier: str | None = None) -> pl.DataFrame:
    """Stated vs measured lead time per supplier (see :func:`supplier_lead_times`)."""
    out = supplier_lead_times(load_receipts(uow), stated_terms(uow))
    return out.filter(pl.col("supplier") == supplier) if supplier else out
