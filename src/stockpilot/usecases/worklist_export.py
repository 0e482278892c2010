"""A worklist's rows as a CSV or XLSX file (the same rows and columns as its pages)."""

from __future__ import annotations

import io
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from stockpilot.usecases.paging import InvalidQuery

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export(rows: pl.DataFrame, columns: tuple[str, ...], fmt: str, title: str = "list"
           ) -> bytes:
    """``rows`` (only ``columns``, in order) as ``fmt`` (``csv`` or ``xlsx``) bytes."""
    if fmt not in FORMATS:
        raise InvalidQuery(f"format: {fmt!r}; one of: {', '.join(FORMATS)}")
    df = _safe(rows.select([c for c in columns if c in rows.columns]))
    if fmt == "csv":
        return df.write_csv().encode()
    return _xlsx(df, title)


def _safe(df: pl.DataFrame) -> pl.DataFrame:
    # a text cell starting with = + - @ would run as a formula in a spreadsheet (CSV/formula
    # injection, OWASP): quote it as text
    text = [c for c, t in df.schema.items() if t == pl.Utf8]
    risky = pl.lit(False)
    return df.with_columns([
        pl.when(pl.col(c).str.slice(0, 1).is_in(list(FORMULA_START)).fill_null(risky))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c) for c in text])


def _xlsx(df: pl.DataFrame, title: str) -> bytes:
    # write-only mode streams rows instead of holding a cell object per value
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.append(df.columns)
    for row in df.iter_rows():
        ws.append([_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(v: Any) -> Any:
    if isinstance(v, str):  # control characters (a name imported with \x01) are not allowed
        return ILLEGAL_CHARACTERS_RE.sub("", v)  # in a worksheet: openpyxl refuses the file
    return v.replace(tzinfo=None) if hasattr(v, "tzinfo") and getattr(v, "tzinfo", None) else v
