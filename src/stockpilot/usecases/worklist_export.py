"""A worklist's rows as a CSV or XLSX file (the same rows and columns as its pages)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from stockpilot.usecases.paging import InvalidQuery

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def export(rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: str, title: str = "list"
           ) -> bytes:
    """``rows`` (only ``columns``, in order) as ``fmt`` (``csv`` or ``xlsx``) bytes."""
    if fmt not in FORMATS:
        raise InvalidQuery(f"format: {fmt!r}; one of: {', '.join(FORMATS)}")
    return _csv(rows, columns) if fmt == "csv" else _xlsx(rows, columns, title)


def _cell(value: Any) -> Any:
    # a text cell starting with = + - @ would run as a formula in a spreadsheet (CSV/formula
    # injection, OWASP): quote it as text
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore",
                       lineterminator="\n")
    w.writeheader()
    w.writerows({c: _cell(r.get(c)) for c in columns} for r in rows)
    return buf.getvalue().encode()


def _xlsx(rows: list[dict[str, Any]], columns: tuple[str, ...], title: str) -> bytes:
    # write-only mode streams rows instead of holding a cell object per value
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.append(list(columns))
    for r in rows:
        ws.append([_cell(r.get(c)) for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
