"""The workspace report as a PDF (fpdf2): headline KPIs, the charts, each section's table.

The text font is DejaVu Sans from matplotlib's own data folder (always installed with it):
fpdf2's built-in core fonts cover Latin-1 only, and SKU names from imported files may not.
Tables show the first rows of each section (the Excel report has them all); wide text cells
(the suggestions' reasons) are cut to fit one line.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from fpdf import FPDF
from fpdf.fonts import FontFace

from stockpilot.reports.tables import EXPLAIN, ROWS_SHOWN, text_rows
from stockpilot.usecases.reports import ReportData

CHART_AFTER = {"KPIs by week": "kpis", "Stock value by ABC class": "class",
               "Stock flow by week (units)": "flow", "Forecast accuracy by class": "accuracy"}
CELL_CHARS = 60  # a table cell's text beyond this is cut (one line per row keeps tables short)


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _doc(title: str) -> FPDF:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(title)
    pdf.set_creator("stockpilot")
    pdf.add_font("DejaVu", "", str(_font_dir() / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(_font_dir() / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    return pdf


def _heading(pdf: FPDF, text: str, size: int = 13) -> None:
    pdf.set_font("DejaVu", "B", size)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)


def _para(pdf: FPDF, text: str) -> None:
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(0, 4.5, text, new_x="LMARGIN", new_y="NEXT")


def _table(pdf: FPDF, df: pl.DataFrame) -> None:
    if df.is_empty():
        _para(pdf, "none")
        return
    pdf.set_font("DejaVu", "", 7)
    rows = [[c if len(c) <= CELL_CHARS else c[:CELL_CHARS - 1] + "…" for c in r]
            for r in text_rows(df)]
    with pdf.table(headings_style=FontFace(emphasis="BOLD", fill_color=(230, 234, 238)),
                   line_height=4.2, text_align="LEFT", first_row_as_headings=True) as table:
        for row in [list(df.columns), *rows]:
            table.row(row)
    if df.height > ROWS_SHOWN:
        _para(pdf, f"… and {df.height - ROWS_SHOWN:,} more rows (all in the xlsx report)")
    pdf.ln(2)


def _headline(pdf: FPDF, data: ReportData) -> None:
    last = data.kpis.row(-1, named=True) if data.kpis.height else {}
    parts = [("Fill rate", last.get("fill_rate"), "{:.1%}"),
             ("Stock value", last.get("stock_value"), "{:,.0f}"),
             ("Turns", last.get("turns"), "{:.1f}"),
             ("Days of cover", last.get("days_of_cover"), "{:.0f}"),
             ("Projected stockouts", data.stockouts.height, "{:,}"),
             ("Orders due", data.suggestions.height, "{:,}")]
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 7, "   ·   ".join(f"{k}: {f.format(v) if v is not None else '–'}"
                                  for k, v, f in parts), new_x="LMARGIN", new_y="NEXT")


def write_pdf(data: ReportData, out: Path, title: str, charts: dict[str, Path]) -> Path:
    """Write the report to ``out`` as PDF; ``charts`` are PNGs by name (kpis, flow, …)."""
    pdf = _doc(title)
    _heading(pdf, title, 16)
    scope = ", ".join(data.scope) if data.scope is not None else "all locations"
    _para(pdf, f"As of {data.as_of} · {scope}")
    _headline(pdf, data)
    for name, df in data.sections().items():
        _heading(pdf, name, 11)
        if name in EXPLAIN:
            _para(pdf, EXPLAIN[name])
        if name == "Forecast accuracy by class":
            _para(pdf, data.accuracy_source)
        chart = charts.get(CHART_AFTER.get(name, ""))
        if chart is not None:
            wide = name in ("KPIs by week", "Stock flow by week (units)")
            pdf.image(str(chart), w=pdf.epw if wide else pdf.epw / 2)
        _table(pdf, df)
    if data.notes:
        _heading(pdf, "Notes", 11)
        for note in data.notes:
            _para(pdf, f"• {note}")
    pdf.output(str(out))
    return out
