"""Reports: the HTML report files of the workspace (``<workspace>/report``), to list and fetch."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from stockpilot.api.deps import Ctx, Viewer
from stockpilot.api.problems import COMMON
from stockpilot.api.schemas import Out
from stockpilot.errors import NotFound

router = APIRouter(prefix="/reports", tags=["reports"], responses=COMMON)
SERVED = {".html": "text/html; charset=utf-8", ".png": "image/png", ".csv": "text/csv"}
# The report is ours, but it shows names from imported files: no scripts, no outside loads.
CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


class ReportFile(Out):
    """One file of a report."""

    name: str
    bytes: int
    modified_at: datetime
    media_type: str


def _files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in SERVED)


@router.get("")
def list_reports(who: Viewer, ctx: Ctx) -> list[ReportFile]:
    """The report files (HTML pages and their charts)."""
    del who
    root = ctx.folder("report")
    return [ReportFile(name=p.relative_to(root).as_posix(), bytes=p.stat().st_size,
                       modified_at=datetime.fromtimestamp(p.stat().st_mtime, UTC),
                       media_type=SERVED[p.suffix]) for p in _files(root)]


@router.get("/{name:path}", response_class=FileResponse,
            responses={200: {"content": {m: {} for m in SERVED.values()},
                             "description": "The file"}})
def get_report(name: str, who: Viewer, ctx: Ctx) -> FileResponse:
    """One report file, by the name the list gives (nothing outside the report folder)."""
    del who
    root = ctx.folder("report").resolve()
    path = (root / name).resolve()
    if root not in path.parents or path.suffix not in SERVED or not path.is_file():
        raise NotFound(f"no report file {name!r}")
    return FileResponse(path, media_type=SERVED[path.suffix],
                        headers={"Content-Security-Policy": CSP,
                                 "X-Content-Type-Options": "nosniff"})
