"""Reports: the HTML report files of the workspace (``<workspace>/report``), to list and fetch.

A report shows every location it was made over, so location scope applies to files, not
rows: a key limited to locations sees only ``locations/<LOC>/…`` for its own locations (a
report written for that location alone); the workspace-wide files answer 404 to it, as if
they did not exist (issue 17 item 5: a STORE-1 viewer read ``index.html`` full of ONLINE).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from stockpilot.api.auth import Principal
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


def _readable(who: Principal, relative: Path) -> bool:
    """Unscoped keys read every file; scoped keys only ``locations/<their LOC>/…``."""
    if who.locations is None:
        return True
    parts = relative.parts
    return len(parts) >= 3 and parts[0] == "locations" and who.sees(parts[1])


@router.get("")
def list_reports(who: Viewer, ctx: Ctx) -> list[ReportFile]:
    """The report files (HTML pages and their charts) the key may read."""
    root = ctx.folder("report")
    return [ReportFile(name=p.relative_to(root).as_posix(), bytes=p.stat().st_size,
                       modified_at=datetime.fromtimestamp(p.stat().st_mtime, UTC),
                       media_type=SERVED[p.suffix])
            for p in _files(root) if _readable(who, p.relative_to(root))]


@router.get("/{name:path}", response_class=FileResponse,
            responses={200: {"content": {m: {} for m in SERVED.values()},
                             "description": "The file"}})
def get_report(name: str, who: Viewer, ctx: Ctx) -> FileResponse:
    """One report file, by the name the list gives (nothing outside the report folder)."""
    root = ctx.folder("report").resolve()
    path = (root / name).resolve()
    if (root not in path.parents or path.suffix not in SERVED or not path.is_file()
            or not _readable(who, path.relative_to(root))):
        raise NotFound(f"no report file {name!r}")
    return FileResponse(path, media_type=SERVED[path.suffix],
                        headers={"Content-Security-Policy": CSP,
                                 "X-Content-Type-Options": "nosniff"})
