"""Imports keep to the one set of bounds on both databases; broken .gz files name the file.

Before: on PostgreSQL a NUL byte, a 300-character SKU or a quantity of 3e9 ended in a
traceback from the driver while SQLite stored them; a truncated or fake .gz ended in a
traceback. Now each is an :class:`InvalidRow` naming the file, row and field, on both.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy import func, select

from stockpilot.errors import ImportRejected
from stockpilot.ingest import files, m5
from stockpilot.ingest.online_retail import read_invoices
from stockpilot.store import schema as t

OR_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "field", "reason"), [
    ("A\x00B,apple\n", "sku", "NUL"),
    ("S" * 300 + ",apple\n", "sku", "longer than 64"),
    ("A," + "n" * 256 + "\n", "name", "longer than 255"),
])
def test_catalogue_text_out_of_bounds_is_an_invalid_row(engine, tmp_path, body, field, reason):
    path = _write(tmp_path, "skus.csv", "sku,name\nOK,fine\n" + body)
    with pytest.raises(ImportRejected) as got:
        files.import_catalogue(engine, "skus", path)
    [problem] = got.value.problems
    assert (problem.row, problem.field) == (3, field) and reason in problem.reason
    with engine.connect() as conn:  # all or nothing: not even the good row
        assert conn.execute(select(func.count()).select_from(t.skus)).scalar_one() == 0


def test_a_quantity_past_32_bits_is_an_invalid_row(engine, tmp_path):
    files.import_catalogue(engine, "skus", _write(tmp_path, "s.csv", "sku\nA\n"))
    files.import_catalogue(engine, "locations", _write(tmp_path, "l.csv", "location\nW\n"))
    path = _write(tmp_path, "stock.csv", "sku,location,quantity\nA,W,3000000000\n")
    with pytest.raises(ImportRejected) as got:
        files.import_stock(engine, path)
    [problem] = got.value.problems
    assert problem.field == "quantity" and "outside" in problem.reason


def test_online_retail_bounds_name_the_row(tmp_path):
    path = _write(tmp_path, "or.csv", OR_HEADER
                  + "1,A,x,3000000000,2011-01-01 10:00:00,1.0,C1,UK\n"
                  + "2," + "S" * 300 + ",x,1,2011-01-01 10:00:00,1.0,C1,UK\n"
                  + "3,B,x,1,2011-01-01 10:00:00,1e10,C1,UK\n")
    with pytest.raises(ImportRejected) as got:
        read_invoices(path)
    assert {(p.row, p.field) for p in got.value.problems} == {
        (2, "Quantity"), (3, "StockCode"), (4, "UnitPrice")}


def test_truncated_gz_names_the_file(tmp_path):
    data = gzip.compress(("sku,name\n" + "A,a\n" * 50_000).encode())
    path = tmp_path / "skus.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportRejected) as got:
        files.import_catalogue(None, "skus", path)  # type: ignore[arg-type]
    assert got.value.file == str(path) and "truncated" in str(got.value)


def test_fake_gz_names_the_file(tmp_path):
    path = tmp_path / "skus.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage that is not deflate")
    with pytest.raises(ImportRejected) as got:
        files.import_catalogue(None, "skus", path)  # type: ignore[arg-type]
    assert got.value.file == str(path)


def test_truncated_gz_in_an_m5_directory_names_the_file(tmp_path):
    data = gzip.compress(("date,wm_yr_wk,d\n" + "2011-01-29,11101,d_1\n" * 50_000).encode())
    path = tmp_path / "calendar.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportRejected) as got:
        m5.read_calendar(path)
    assert got.value.file == str(path) and "truncated" in str(got.value)
