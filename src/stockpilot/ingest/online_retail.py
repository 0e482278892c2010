"""Reader of the UCI "Online Retail" invoices file (Chen, Sain & Guo 2012; CC BY 4.0).

Columns: ``InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID,
Country``. An ``InvoiceNo`` starting with ``C`` is a cancellation (negative quantity): in
stockpilot it becomes a return. The shop is one web store, so every line belongs to one
location (``ONLINE`` unless told otherwise).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from stockpilot.domain import bounds as b
from stockpilot.errors import ImportRejected, InvalidRow
from stockpilot.ingest.spec import read_csv

COLUMNS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
           "CustomerID", "Country"]
DEFAULT_LOCATION = "ONLINE"


def read_invoices(path: Path) -> pl.DataFrame:
    """Typed invoice lines with a 1-based ``row`` (file line number) for error reports.

    Returns columns ``row, invoice_no, stock_code, description, quantity, invoiced_at,
    unit_price, customer_id, country, is_cancellation``.

    Raises:
        ImportRejected: a column is missing or a value cannot be read; nothing is returned.
    """
    try:
        df = read_csv(path, infer_schema_length=0, encoding="utf8")
    except (pl.exceptions.ComputeError, UnicodeDecodeError) as exc:
        raise ImportRejected(str(path), [InvalidRow(str(path), 0, "*", f"unreadable: {exc}")]) \
            from exc
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ImportRejected(str(path), [InvalidRow(str(path), 1, c, "missing column")
                                         for c in missing])
    typed = df.with_row_index("row", offset=2).select(
        "row",
        pl.col("InvoiceNo").alias("invoice_no"),
        pl.col("StockCode").alias("stock_code"),
        pl.col("Description").alias("description"),
        pl.col("Quantity").cast(pl.Int64, strict=False).alias("quantity"),
        pl.col("InvoiceDate").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
        .alias("invoiced_at"),
        pl.col("UnitPrice").cast(pl.Float64, strict=False).alias("unit_price"),
        pl.col("CustomerID").alias("customer_id"),
        pl.col("Country").alias("country"),
        pl.col("InvoiceNo").str.starts_with("C").alias("is_cancellation"),
        pl.col("Quantity").alias("_quantity_text"),
        pl.col("InvoiceDate").alias("_date_text"),
        pl.col("UnitPrice").alias("_price_text"),
    )
    _report_bad(typed, path)
    return typed.drop("_quantity_text", "_date_text", "_price_text")


def _report_bad(df: pl.DataFrame, path: Path) -> None:
    checks = [
        ("InvoiceNo", pl.col("invoice_no").is_null(), "missing invoice number"),
        ("StockCode", pl.col("stock_code").is_null(), "missing stock code"),
        ("Quantity", pl.col("quantity").is_null(), "not an integer"),
        ("InvoiceDate", pl.col("invoiced_at").is_null(), "not a date YYYY-MM-DD HH:MM:SS"),
        ("UnitPrice", pl.col("unit_price").is_null(), "not a number"),
        *_bounds(),
    ]
    problems: list[InvalidRow] = []
    for field, cond, reason in checks:
        for row in df.filter(cond.fill_null(False))["row"].head(1000).to_list():
            problems.append(InvalidRow(str(path), row, field, reason))
    if problems:
        raise ImportRejected(str(path), sorted(problems, key=lambda p: p.row))


def _bounds() -> list[tuple[str, pl.Expr, str]]:
    """What the database columns can hold (stockpilot.domain.bounds): same on both backends."""
    text = [("InvoiceNo", "invoice_no", b.ID_LEN), ("StockCode", "stock_code", b.ID_LEN),
            ("CustomerID", "customer_id", b.ID_LEN), ("Country", "country", b.ID_LEN),
            ("Description", "description", b.TEXT_LEN)]
    out = [(f, pl.col(c).str.len_chars() > n, f"longer than {n} characters")
           for f, c, n in text]
    out += [(f, pl.col(c).str.contains("\x00", literal=True), "contains a NUL character")
            for f, c, _ in text]
    q, p = pl.col("quantity"), pl.col("unit_price")
    out.append(("Quantity", (q < b.INT_MIN) | (q > b.INT_MAX),
                f"outside {b.INT_MIN} … {b.INT_MAX}"))
    out.append(("UnitPrice", ~p.is_finite() | (p.abs() >= b.MONEY_LIMIT),
                f"not a finite amount below {b.MONEY_LIMIT:.0e}"))
    return out


def daily_demand(lines: pl.DataFrame, location: str = DEFAULT_LOCATION) -> pl.DataFrame:
    """Net units per StockCode and day (sales minus returns): ``sku, location, date, units``."""
    return (
        lines.group_by(pl.col("stock_code").alias("sku"), pl.col("invoiced_at").dt.date()
                       .alias("date"))
        .agg(pl.col("quantity").sum().cast(pl.Int32).alias("units"))
        .with_columns(pl.lit(location).alias("location"))
        .select("sku", "location", "date", "units")
        .sort("sku", "date")
    )
