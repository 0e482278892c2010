"""Worklist exports: the columns asked for, in order; formulas never run in a spreadsheet."""

from __future__ import annotations

import io
from datetime import date

import polars as pl
import pytest
from openpyxl import load_workbook

from stockpilot.usecases.paging import InvalidQuery
from stockpilot.usecases.worklist_export import export

ROWS = pl.DataFrame({"sku": ["=HYPERLINK(\"http://x\")", "A"], "name": ["@cmd", None],
                     "expiry": [date(2024, 7, 1), None], "value": [18864.9, -2.5]})


def test_csv_quotes_formula_text_and_keeps_numbers():
    text = export(ROWS, ("value", "sku", "name", "expiry"), "csv").decode()
    assert text.splitlines() == ["value,sku,name,expiry",
                                 '18864.9,"\'=HYPERLINK(""http://x"")",\'@cmd,2024-07-01',
                                 "-2.5,A,,"]


def test_xlsx_has_the_same_cells():
    book = load_workbook(io.BytesIO(export(ROWS, ("sku", "value"), "xlsx", "SKUs")))
    rows = list(book["SKUs"].iter_rows(values_only=True))
    assert rows == [("sku", "value"), ("'=HYPERLINK(\"http://x\")", 18864.9), ("A", -2.5)]


def test_an_unknown_format_is_refused():
    with pytest.raises(InvalidQuery, match="format: 'pdf'"):
        export(ROWS, ("sku",), "pdf")


def test_control_characters_in_text_do_not_break_the_workbook():
    """A SKU name holding \\x01 (schemathesis put one in) made the XLSX export a 500."""
    import io

    import polars as pl
    from openpyxl import load_workbook

    from stockpilot.usecases.worklist_export import export

    rows = pl.DataFrame({"sku": ["A"], "name": ["bad\x01name"]})
    book = load_workbook(io.BytesIO(export(rows, ("sku", "name"), "xlsx")))
    assert [c.value for c in next(book.active.iter_rows(min_row=2))] == ["A", "badname"]
