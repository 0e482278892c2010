"""Generic importers on SQLite and PostgreSQL: all-or-nothing, idempotent, with reports."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from stockpilot.errors import ImportRejected
from stockpilot.ingest import files
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.positions import get_positions
from stockpilot.store import schema as t
from stockpilot.store.history import HistoryStore


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def shop(engine, tmp_path):
    files.import_catalogue(engine, "locations", write(
        tmp_path, "loc.csv", "location,name,allows_backorders\nW,Warehouse,false\nS,Shop,true\n"))
    files.import_catalogue(engine, "skus", write(
        tmp_path, "skus.csv", "sku,name,price,lot_tracked\nA,Apple,1.0,false\n"
        "M,Milk,0.9,true\n"))
    files.import_catalogue(engine, "suppliers", write(tmp_path, "sup.csv", "supplier\nACME\n"))
    return engine


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_stock_snapshot_counts_and_is_idempotent(shop, tmp_path):
    path = write(tmp_path, "stock.csv", "sku,location,quantity,lot_code,expiry\n"
                 "A,W,10,,\nM,W,5,L1,2030-01-01\nM,W,7,L2,2029-06-01\n")
    first = files.import_stock(shop, path)
    again = files.import_stock(shop, path)
    assert (first.written, again.written, again.skipped) == (3, 0, 3)
    with shop.connect() as conn:
        pos = {(p.sku, p.location): p.on_hand for p in get_positions(conn)}
        assert pos == {("A", "W"): 10, ("M", "W"): 12}
        assert check_ledger(conn) == []


def test_bad_stock_file_imports_nothing_and_names_unknowns(shop, tmp_path):
    path = write(tmp_path, "stock.csv", "sku,location,quantity\nA,W,10\nZZ,W,1\nA,NOWHERE,2\n"
                 "A,S,x\n")
    with pytest.raises(ImportRejected) as info:
        files.import_stock(shop, path)
    got = {(p.row, p.field) for p in info.value.problems}
    assert got == {(3, "sku"), (4, "location"), (5, "quantity")}
    assert "unknown SKU 'ZZ'" in str(info.value)
    assert count(shop, t.movements) == 0


def test_supplier_items_need_known_supplier_and_sku(shop, tmp_path):
    bad = write(tmp_path, "si.csv", "supplier,sku,lead_time_days,moq\nACME,A,7,0\nNOPE,A,3,1\n"
                "ACME,Q,5,1\n")
    with pytest.raises(ImportRejected) as info:
        files.import_catalogue(shop, "supplier_items", bad)
    assert {(p.row, p.field) for p in info.value.problems} == {
        (2, "moq"), (3, "supplier"), (4, "sku")}
    good = write(tmp_path, "si2.csv", "supplier,sku,lead_time_days,moq,pack_size\nACME,A,7,6,6\n")
    assert files.import_catalogue(shop, "supplier_items", good).written == 1


def test_sales_go_to_order_lines_and_history_not_stock(shop, tmp_path):
    path = write(tmp_path, "sales.csv", "order_id,line,sku,location,quantity,occurred_at,"
                 "customer_id\no1,1,A,W,3,2024-01-01 10:00:00,c1\no1,2,A,W,2,2024-01-01,c1\n"
                 "o2,1,A,W,-1,2024-01-02T09:00:00,c2\n")
    history = HistoryStore(tmp_path / "history")
    report = files.import_sales(shop, path, history)
    assert (report.rows, report.written) == (3, 3)
    assert files.import_sales(shop, path, history).written == 0
    daily = history.daily(sources=["import"])
    assert daily.select("date", "units").rows() == [
        (daily["date"][0], 5), (daily["date"][1], -1)]
    assert count(shop, t.movements) == 0


def test_purchase_orders_put_units_on_order_once(shop, tmp_path):
    path = write(tmp_path, "po.csv", "reference,supplier,sku,location,quantity,expected_at\n"
                 "PO-1,ACME,A,W,24,2030-01-05\nPO-1,ACME,M,W,12,2030-01-05\nPO-2,ACME,A,S,6,\n")
    assert files.import_purchase_orders(shop, path).written == 2
    assert files.import_purchase_orders(shop, path).written == 0
    with shop.connect() as conn:
        on_order = {(p.sku, p.location): p.on_order for p in get_positions(conn)}
        assert on_order == {("A", "W"): 24, ("M", "W"): 12, ("A", "S"): 6}
        assert check_ledger(conn) == []


def test_purchase_order_reference_with_two_suppliers_is_rejected(shop, tmp_path):
    files.import_catalogue(shop, "suppliers", write(tmp_path, "s2.csv", "supplier\nOTHER\n"))
    path = write(tmp_path, "po.csv", "reference,supplier,sku,location,quantity\n"
                 "PO-9,ACME,A,W,1\nPO-9,OTHER,M,W,1\n")
    with pytest.raises(ImportRejected, match="already has supplier"):
        files.import_purchase_orders(shop, path)
    assert count(shop, t.purchase_orders) == 0


def test_sales_stockout_column_marks_censored_days(shop, tmp_path):
    path = write(tmp_path, "sales.csv", "order_id,line,sku,location,quantity,occurred_at,"
                 "stockout\no1,1,A,W,3,2024-01-01 10:00:00,\no2,1,A,W,1,2024-01-02,yes\n"
                 "o3,1,A,W,1,2024-01-02 18:00:00,true\n")
    history = HistoryStore(tmp_path / "history")
    files.import_sales(shop, path, history)
    files.import_sales(shop, path, history)  # idempotent: the day is held once
    out = history.read("stockouts", "import")
    assert out.select("sku", "location", pl.col("date").cast(pl.Utf8)).rows() == [
        ("A", "W", "2024-01-02")]
    bad = write(tmp_path, "bad.csv", "order_id,line,sku,location,quantity,occurred_at,stockout\n"
                "o9,1,A,W,3,2024-01-01,maybe\n")
    with pytest.raises(ImportRejected) as err:
        files.import_sales(shop, bad, history)
    assert err.value.problems[0].field == "stockout"
