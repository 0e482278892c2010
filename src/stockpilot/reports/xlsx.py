"""The workspace report as an Excel workbook (XlsxWriter): one sheet per section, every row.

A "Summary" sheet carries the headline numbers and the charts (the same PNGs as the HTML
and PDF); each section's sheet keeps raw values (numbers stay numbers, dates stay dates) so
a planner can sort and filter.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from stockpilot.usecases.reports import ReportData, summary

SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(title: str, used: set[str]) -> str:
    r"""Excel's rules: at most 31 characters, none of ``[]:*?/\\``, unique."""
    name = SHEET_NAME.sub(" ", title)[:31].strip()
    while name in used:
        name = name[:28] + f"~{len(used)}"
    used.add(name)
    return name


def _cell(v: Any) -> Any:
    return v.replace(tzinfo=None) if isinstance(v, datetime) else v


def _section(book: Any, name: str, df: pl.DataFrame, fmts: dict[str, Any]) -> None:
    ws = book.add_worksheet(name)
    for j, col in enumerate(df.columns):
        ws.write(0, j, col, fmts["head"])
        ws.set_column(j, j, 40 if col == "reason" else 14)
    for i, row in enumerate(df.iter_rows(), start=1):
        for j, v in enumerate(row):
            if isinstance(v, datetime):
                ws.write_datetime(i, j, _cell(v), fmts["ts"])
            elif isinstance(v, date):
                ws.write_datetime(i, j, datetime.combine(v, datetime.min.time()), fmts["day"])
            elif v is not None:
                ws.write(i, j, v)
    if df.width:
        ws.autofilter(0, 0, max(df.height, 1), df.width - 1)
        ws.freeze_panes(1, 0)


def write_xlsx(data: ReportData, out: Path, title: str, charts: dict[str, Path]) -> Path:
    """Write the report to ``out`` as .xlsx; ``charts`` are PNGs put on the Summary sheet."""
    book = xlsxwriter.Workbook(str(out), {"nan_inf_to_errors": True})
    fmts = {"head": book.add_format({"bold": True, "bg_color": "#E6EAEE"}),
            "day": book.add_format({"num_format": "yyyy-mm-dd"}),
            "ts": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
            "title": book.add_format({"bold": True, "font_size": 14})}
    used = {"Summary"}
    top = book.add_worksheet("Summary")
    top.write(0, 0, title, fmts["title"])
    for i, (k, v) in enumerate(summary(data).items(), start=2):
        top.write(i, 0, k)
        top.write(i, 1, ", ".join(v) if isinstance(v, list) else v)
    top.write(i + 1, 0, "forecast accuracy")
    top.write(i + 1, 1, data.accuracy_source)
    top.set_column(0, 0, 22)
    row = i + 3
    for chart in charts.values():
        top.insert_image(row, 0, str(chart), {"x_scale": 0.8, "y_scale": 0.8})
        row += 22
    for name, df in data.sections().items():
        _section(book, _sheet_name(name, used), df, fmts)
    book.close()
    return out
