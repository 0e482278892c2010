"""The workspace report as one HTML page; its charts are PNGs beside it (``<stem>-*.png``).

Plain HTML and CSS (the report folder is served with a CSP that forbids scripts); every
value is escaped, since SKU names and reasons come from imported files.
"""

from __future__ import annotations

import html
from pathlib import Path

import polars as pl

from stockpilot.reports.html import STYLE
from stockpilot.reports.tables import EXPLAIN, ROWS_SHOWN, text_rows
from stockpilot.usecases.reports import ReportData

CHART_AFTER = {"KPIs by week": "kpis", "Stock value by ABC class": "class",
               "Stock flow by week (units)": "flow", "Forecast accuracy by class": "accuracy"}


def _table(df: pl.DataFrame) -> str:
    if df.is_empty():
        return "<p><i>none</i></p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
                   for row in text_rows(df))
    more = (f"<p>… and {df.height - ROWS_SHOWN:,} more rows (all in the xlsx report)</p>"
            if df.height > ROWS_SHOWN else "")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _headline(data: ReportData) -> str:
    last = data.kpis.row(-1, named=True) if data.kpis.height else {}
    cards = [("Fill rate", last.get("fill_rate"), "{:.1%}"),
             ("Stock value", last.get("stock_value"), "{:,.0f}"),
             ("Turns", last.get("turns"), "{:.1f}"),
             ("Days of cover", last.get("days_of_cover"), "{:.0f}"),
             ("Projected stockouts", data.stockouts.height, "{:,}"),
             ("Orders due", data.suggestions.height, "{:,}")]
    return '<div class="kpis">' + "".join(
        f'<div class="kpi">{k}<b>{f.format(v) if v is not None else "–"}</b></div>'
        for k, v, f in cards) + "</div>"


def write_page(data: ReportData, out: Path, title: str, charts: dict[str, Path]) -> Path:
    """Write the report page to ``out``; ``charts`` are PNGs in ``out``'s folder."""
    scope = ", ".join(data.scope) if data.scope is not None else "all locations"
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>As of {data.as_of} · {html.escape(scope)}</p>", _headline(data)]
    for name, df in data.sections().items():
        parts.append(f"<h2>{html.escape(name)}</h2>")
        if name in EXPLAIN:
            parts.append(f"<p>{html.escape(EXPLAIN[name])}</p>")
        if name == "Forecast accuracy by class":
            parts.append(f"<p>{html.escape(data.accuracy_source)}</p>")
        chart = charts.get(CHART_AFTER.get(name, ""))
        if chart is not None:
            parts.append(f'<img src="{html.escape(chart.name)}" alt="{html.escape(name)}">')
        parts.append(_table(df))
    if data.notes:
        parts += ["<h2>Notes</h2><ul>"] + [f"<li>{html.escape(n)}</li>" for n in data.notes]
        parts.append("</ul>")
    page = (f"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport "
            f"content='width=device-width,initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
    out.write_text(page, encoding="utf-8")
    return out
