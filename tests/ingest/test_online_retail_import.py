"""Online Retail import on the vendored real sample."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from stockpilot.errors import ImportRejected
from stockpilot.ingest.online_retail import read_invoices
from stockpilot.ingest.online_retail_import import import_online_retail, split_lines
from stockpilot.store import schema as t
from stockpilot.store.history import HistoryStore

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "online_retail_top300.csv.gz"


def test_sample_import_keeps_orders_customers_and_net_demand(engine, tmp_path):
    history = HistoryStore(tmp_path / "history")
    report = import_online_retail(engine, SAMPLE, history)
    raw = read_invoices(SAMPLE)
    kept, _, _ = split_lines(raw)
    assert report.skus == 300 and report.order_lines_written == kept.height
    with engine.connect() as conn:
        n_lines = conn.execute(select(func.count()).select_from(t.order_lines)).scalar_one()
        returns = conn.execute(select(func.count()).select_from(t.order_lines)
                               .where(t.order_lines.c.quantity < 0)).scalar_one()
        customers = conn.execute(select(func.count()).select_from(t.customers)).scalar_one()
    assert n_lines == kept.height
    assert returns == kept.filter(pl.col("is_cancellation")).height > 0
    assert customers == kept["customer_id"].drop_nulls().n_unique()
    daily = history.daily(sources=["online_retail"])
    assert daily["units"].sum() == kept["quantity"].sum()
    again = import_online_retail(engine, SAMPLE, history)
    assert again.order_lines_written == 0


def test_non_products_and_write_offs_are_left_out_not_errors():
    raw = read_invoices(SAMPLE)
    kept, non_product, write_off = split_lines(raw)
    assert kept.filter(~pl.col("stock_code").str.contains(r"\d")).height == 0
    assert kept.filter((pl.col("quantity") < 0) & ~pl.col("is_cancellation")).height == 0
    assert kept.height + non_product + write_off + raw.filter(pl.col("quantity") == 0).height \
        == raw.height


def test_bad_rows_are_reported(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,"
                    "Country\n1,85123A,X,six,2010-12-01 08:26:00,2.55,17850,UK\n"
                    "2,85123A,X,6,01/12/2010 08:26,2.55,17850,UK\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        read_invoices(path)
    assert [(p.row, p.field) for p in info.value.problems] == [(2, "Quantity"),
                                                               (3, "InvoiceDate")]
