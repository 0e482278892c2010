"""Dashboard page of the nightly pipeline: recent runs, each step's status, rows and time.

Read-only: runs are started by the scheduler or ``stockpilot pipeline run``; the page says how
to resume a failed one. The time bars are plain CSS widths (no chart library needed).
"""

# No ``from __future__ import annotations`` here: FastAPI must see the ``viewer`` dependency
# passed in at run time, not its name as a string.
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

RUNS_SHOWN = 30


def _seconds(step: dict[str, Any]) -> float | None:
    if step["started_at"] is None or step["finished_at"] is None:
        return None
    return float((step["finished_at"] - step["started_at"]).total_seconds())


def runs_for_page(engine: Any, user: Any, limit: int = RUNS_SHOWN) -> list[dict[str, Any]]:
    """The newest runs with each step's seconds and its share of the run's longest step."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases import pipeline_runs
    from stockpilot.usecases.paging import PageRequest

    with reading(engine) as uow:
        runs, _ = pipeline_runs.list_runs(uow, user, PageRequest(limit, 0, "-id"))
    for run in runs:
        took = [_seconds(s) or 0.0 for s in run["steps"]]
        longest = max(took, default=0.0) or 1.0
        for s, t in zip(run["steps"], took, strict=True):
            s["seconds"] = _seconds(s)
            s["share"] = round(100 * t / longest)
    return runs


def add_routes(r: APIRouter, render: Callable[..., HTMLResponse], web_of: Callable[..., Any],
               viewer: Any) -> None:
    """Register ``/ui/pipeline``."""

    @r.get("/ui/pipeline")
    def pipeline_page(request: Request, ctx: viewer) -> HTMLResponse:
        runs = runs_for_page(web_of(request).src.engine, ctx.user)
        return render(request, "pipeline.html", ctx=ctx, page="pipeline", runs=runs)
