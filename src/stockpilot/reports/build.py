"""Write the workspace report: ``write_report(engine, history, out)`` — the one entry point.

The CLI (``stockpilot report``), the pipeline's report step and the demo call this. The
format follows ``out``'s suffix (``.html``, ``.pdf``, ``.xlsx``) unless ``fmt`` is given; the
charts are PNGs written beside ``out`` as ``<stem>-<chart>.png`` (the HTML page links them;
the PDF and workbook embed them). A location-limited ``actor`` gets a report of its own
locations only.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from stockpilot.errors import StockpilotError
from stockpilot.reports.charts import draw_all
from stockpilot.store.uow import reading
from stockpilot.usecases import reports
from stockpilot.usecases.actor import SYSTEM, Actor

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from stockpilot.store.history import HistoryStore

FORMATS = ("html", "pdf", "xlsx")


class UnknownReportFormat(StockpilotError):
    """The report format (or the output file's suffix) is not one we write."""

    status = 422
    title = "Unknown report format"


def scope_dir(locations: frozenset[str] | None) -> Path:
    """Where a scope's reports live under ``<workspace>/report``.

    ``.`` for every location, ``locations/<A+B>`` for a location-limited caller (what
    `GET /reports` serves it).
    """
    return Path(".") if locations is None else Path("locations", "+".join(sorted(locations)))


def format_of(out: Path, fmt: str | None) -> str:
    """The format to write: ``fmt``, else ``out``'s suffix; a typed error naming both."""
    got = (fmt or out.suffix.lstrip(".")).lower()
    if got not in FORMATS:
        raise UnknownReportFormat(f"cannot write a {got or 'suffix-less'!s} report to {out}: "
                                  f"choose one of {', '.join(FORMATS)} (--format)")
    return got


def write_report(engine: Engine, history: HistoryStore, out: Path, *, fmt: str | None = None,
                 actor: Actor = SYSTEM, as_of: date | None = None,
                 title: str = "stockpilot report") -> Path:
    """Gather the report's data for ``actor`` and write it to ``out``; returns ``out``.

    Args:
        engine: the workspace database.
        history: the workspace history store (daily demand, plans, forecasts).
        out: the file to write; its folder is created. Charts go beside it.
        fmt: ``html``, ``pdf`` or ``xlsx`` (default: ``out``'s suffix).
        actor: whose locations the report covers (default: all, as the CLI and jobs).
        as_of: the report's day (default: the data's newest day).
        title: the report's title.

    Raises:
        UnknownReportFormat: ``fmt`` (or the suffix) is not html, pdf or xlsx.
    """
    kind = format_of(out, fmt)
    with reading(engine) as uow:
        data = reports.gather(uow, history, actor, as_of=as_of)
    out.parent.mkdir(parents=True, exist_ok=True)
    charts = draw_all(data, out.parent, out.stem)
    full = f"{title} — as of {data.as_of}"
    tmp = out.with_name(f".{out.name}.part")  # a reader never sees half a report
    try:
        _render(kind, data, tmp, full, charts)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _render(kind: str, data: reports.ReportData, path: Path, title: str,
            charts: dict[str, Path]) -> None:
    # each writer imports its library only when used (fpdf2 and XlsxWriter are not small)
    if kind == "html":
        from stockpilot.reports.page import write_page

        write_page(data, path, title, charts)
    elif kind == "pdf":
        from stockpilot.reports.pdf import write_pdf

        write_pdf(data, path, title, charts)
    else:
        from stockpilot.reports.xlsx import write_xlsx

        write_xlsx(data, path, title, charts)
