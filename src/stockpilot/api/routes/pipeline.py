"""Pipeline runs: each run of the nightly pipeline with its steps (read-only).

Runs are started by the scheduler, ``stockpilot pipeline run`` or an orchestrator calling it;
the API shows what happened — each step's status, rows, time, error and the forecast and
plan runs it produced.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter

from stockpilot.api.deps import Ctx, Page, Paged, Viewer, page_request
from stockpilot.api.problems import COMMON
from stockpilot.api.schemas import Out, RowId
from stockpilot.usecases import pipeline_runs

router = APIRouter(prefix="/pipeline", tags=["pipeline"], responses=COMMON)


class PipelineStepPublic(Out):
    """One step of a pipeline run."""

    step: str
    position: int
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    rows: int | None
    forecast_run_id: str | None
    plan_run_id: str | None
    detail: dict[str, Any] | None
    error: str | None


class PipelineRunPublic(Out):
    """One run of the pipeline and its steps, in order."""

    id: int
    status: str
    params: dict[str, Any]
    error: str | None
    started_at: datetime
    finished_at: datetime | None
    steps: list[PipelineStepPublic]


def _public(run: dict[str, Any]) -> PipelineRunPublic:
    return PipelineRunPublic.model_validate(run)  # unknown keys (job, summary) are dropped


@router.get("/runs")
def list_pipeline_runs(who: Viewer, ctx: Ctx, page: Paged,
                       status: Literal["running", "succeeded", "failed"] | None = None
                       ) -> Page[PipelineRunPublic]:
    """Pipeline runs, newest first (filter by status)."""
    with ctx.uow() as uow:
        rows, total = pipeline_runs.list_runs(uow, who, page_request(page, "-id"),
                                              status=status)
    return Page(items=[_public(r) for r in rows], limit=page.limit, offset=page.offset,
                total=total)


@router.get("/runs/{run_id}")
def get_pipeline_run(run_id: RowId, who: Viewer, ctx: Ctx) -> PipelineRunPublic:
    """One pipeline run with its steps."""
    with ctx.uow() as uow:
        return _public(pipeline_runs.get_run(uow, who, run_id))
