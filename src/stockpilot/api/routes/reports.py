"""Reports: the report files of the workspace (``<workspace>/report``), to list and fetch.

Location scope: a report of every location is served only to callers that see every
location. A location-limited caller sees only the reports generated for exactly its
locations (``report/locations/<A+B>/``, written by ``stockpilot report --location A
--location B``), so no file it can fetch counts another location's stock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from stockpilot.api.auth import Principal
from stockpilot.api.context import ApiContext
from stockpilot.api.deps import Ctx, Viewer
from stockpilot.api.problems import COMMON
from stockpilot.api.schemas import Out
from stockpilot.errors import NotFound
from stockpilot.reports.build import scope_dir

router = APIRouter(prefix="/reports", tags=["reports"], responses=COMMON)
SERVED = {".html": "text/html; charset=utf-8", ".png": "image/png", ".csv": "text/csv",
          ".pdf": "application/pdf",
          ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# The report is ours, but it shows names from imported files: no scripts, no outside loads.
CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


class ReportFile(Out):
    """One file of a report."""

    name: str
    bytes: int
    modified_at: datetime
    media_type: str


def _root(ctx: ApiContext, who: Principal) -> Path:
    """The caller's report folder: all of it, or its own locations' subfolder."""
    return ctx.folder("report") / scope_dir(who.locations)


def _files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in SERVED)


def _readable(who: Principal, relative: Path) -> bool:
    """Unscoped keys read every file; scoped keys only ``locations/<their LOC>/…``."""
    if who.locations is None:
        return True
    parts = relative.parts
    return len(parts) >= 3 and parts[0] == "locations" and who.sees(parts[1])


@router.get("")
def list_reports(who: Viewer, ctx: Ctx) -> list[ReportFile]:
    """The report files the caller may see (pages, PDFs, workbooks and their charts)."""
    root = _root(ctx, who)
    return [ReportFile(name=p.relative_to(root).as_posix(), bytes=p.stat().st_size,
                       modified_at=datetime.fromtimestamp(p.stat().st_mtime, UTC),
                       media_type=SERVED[p.suffix])
            for p in _files(root) if _readable(who, p.relative_to(root))]


@router.get("/{name:path}", response_class=FileResponse,
            responses={200: {"content": {m: {} for m in SERVED.values()},
                             "description": "The file"}})
def get_report(name: str, who: Viewer, ctx: Ctx) -> FileResponse:
    """One report file, by the name the list gives (nothing outside the report folder)."""
    root = _root(ctx, who).resolve()
    path = (root / name).resolve()
    if (root not in path.parents or path.suffix not in SERVED or not path.is_file()
            or not _readable(who, path.relative_to(root))):
        raise NotFound(f"no report file {name!r}")
    return FileResponse(path, media_type=SERVED[path.suffix],
                        headers={"Content-Security-Policy": CSP,
                                 "X-Content-Type-Options": "nosniff"})
