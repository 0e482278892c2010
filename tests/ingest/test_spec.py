"""Validation of generic import files: every bad row reported, nothing half read."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from stockpilot.errors import ImportRejected
from stockpilot.ingest.spec import SPECS, describe, validate


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, kind: str) -> list[tuple[int, str, str]]:
    with pytest.raises(ImportRejected) as info:
        validate(path, SPECS[kind])
    return [(p.row, p.field, p.reason) for p in info.value.problems]


def test_good_file_is_typed(tmp_path):
    path = write(tmp_path, "skus.csv", "sku,name,unit_cost,price,shelf_life_days,lot_tracked\n"
                 "A,Apple,0.5,1.25,10,yes\nB,,,,,\n")
    df = validate(path, SPECS["skus"])
    assert df["row"].to_list() == [2, 3]
    assert df["unit_cost"].to_list() == [0.5, None]
    assert df["shelf_life_days"].dtype == pl.Int64
    assert df["lot_tracked"].to_list() == [True, None]


def test_every_bad_row_is_reported_with_file_row_and_field(tmp_path):
    path = write(tmp_path, "stock.csv", "sku,location,quantity,expiry\n"
                 "A,W,1.5,\nB,W,-2,\nC,W,abc,\n,W,3,\nE,W,4,2024-13-01\nF,W,5,2024-01-31\n")
    got = problems(path, "stock")
    assert (2, "quantity", "not an integer ('1.5')") in got
    assert (3, "quantity", "must not be negative ('-2')") in got
    assert (4, "quantity", "not an integer ('abc')") in got
    assert (5, "sku", "missing value") in got
    assert (6, "expiry", "not a date YYYY-MM-DD ('2024-13-01')") in got
    assert len(got) == 5 and not [p for p in got if p[0] == 7]


def test_missing_columns_are_named(tmp_path):
    path = write(tmp_path, "sales.csv", "order_id,sku\n1,A\n")
    got = problems(path, "sales")
    assert {(r, f) for r, f, _ in got} == {(1, "location"), (1, "quantity"), (1, "occurred_at")}


def test_duplicate_ids_point_at_the_first(tmp_path):
    path = write(tmp_path, "skus.csv", "sku\nA\nB\nA\n")
    assert problems(path, "skus") == [(4, "sku", "duplicate 'A' (first at row 2)")]


def test_wrong_encoding_names_the_line(tmp_path):
    path = tmp_path / "skus.csv"
    path.write_bytes("sku,name\nA,ok\nB,caf\xe9\n".encode("latin-1"))
    [(row, field, reason)] = problems(path, "skus")
    assert (row, field) == (3, "*") and "not UTF-8" in reason


def test_unparseable_datetimes_and_zero_sales(tmp_path):
    path = write(tmp_path, "sales.csv", "order_id,sku,location,quantity,occurred_at\n"
                 "o1,A,W,2,2011-12-01 08:26:00\no2,A,W,0,2011-12-01\no3,A,W,1,yesterday\n")
    got = problems(path, "sales")
    assert (3, "quantity", "must not be zero ('0')") in got
    assert (4, "occurred_at", "not a date or date-time (ISO 8601) ('yesterday')") in got
    assert len(got) == 2


def test_gzip_and_parquet_read_like_csv(tmp_path):
    text = "sku,location,quantity\nA,W,3\n"
    gz = tmp_path / "s.csv.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    pq = tmp_path / "s.parquet"
    pl.DataFrame({"sku": ["A"], "location": ["W"], "quantity": ["3"]}).write_parquet(pq)
    for path in (gz, pq):
        assert validate(path, SPECS["stock"])["quantity"].to_list() == [3]


def test_describe_lists_every_column():
    text = describe("purchase_orders")
    for col in SPECS["purchase_orders"].columns:
        assert f"| {col.name} |" in text
