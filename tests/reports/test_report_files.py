"""The report written as HTML, PDF and Excel; the PDF's first page rendered by pdftoppm."""

from __future__ import annotations

import shutil
import subprocess
import zipfile

import pytest
from report_fixture import make

from stockpilot.reports.build import UnknownReportFormat, write_report


@pytest.fixture
def ws(sqlite_engine, tmp_path):
    return sqlite_engine, make(sqlite_engine, tmp_path)


def test_pdf_page_renders_to_a_picture_that_is_not_blank(ws, tmp_path):
    from PIL import Image

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm missing: `make browser` installs poppler-utils")
    engine, hist = ws
    pdf = write_report(engine, hist, tmp_path / "out" / "r.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=60)
    [png] = list(tmp_path.glob("page*.png"))
    grey = Image.open(png).convert("L")
    dark = sum(grey.point(lambda v: 255 if v < 128 else 0).histogram()[255:])
    assert dark > 0.01 * grey.width * grey.height  # text, tables and charts drawn
    text = subprocess.run(["pdftotext", "-l", "2", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Stock value" in text and "as of 2024-06-30" in text
    # nothing half written beside it: only the report and its charts
    assert sorted(p.name for p in pdf.parent.iterdir()) == [
        "r-accuracy.png", "r-class.png", "r-flow.png", "r-kpis.png", "r.pdf"]


def test_html_and_xlsx_hold_every_section(ws, tmp_path):
    engine, hist = ws
    page = write_report(engine, hist, tmp_path / "r.html").read_text()
    for title in ("Projected stockouts", "Expiring lots and expected waste",
                  "Count discrepancies", "Purchase suggestions", "A@S: order-up-to 80"):
        assert title in page
    assert '<img src="r-kpis.png"' in page and "<script" not in page
    book = write_report(engine, hist, tmp_path / "r.xlsx")
    with zipfile.ZipFile(book) as z:
        sheets = z.read("xl/workbook.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
    assert sheets.count("<sheet ") == 11 and "Purchase suggestions" in sheets
    assert "A@S: order-up-to 80" in strings


def test_an_unknown_format_is_refused_before_anything_is_written(ws, tmp_path):
    engine, hist = ws
    with pytest.raises(UnknownReportFormat, match=r"report\.txt.*html, pdf, xlsx"):
        write_report(engine, hist, tmp_path / "x" / "report.txt")
    assert not (tmp_path / "x").exists()
