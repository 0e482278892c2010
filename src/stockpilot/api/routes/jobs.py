"""Jobs: the run history, and triggering a planning run."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field

from stockpilot.api.deps import Ctx, Page, Paged, Planner, Viewer, page_request, sort_query
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import In, Out, RowId
from stockpilot.jobs.runs import run_job
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import job_runs

router = APIRouter(prefix="/jobs", tags=["jobs"], responses={**COMMON, **WRITES})


class JobRunPublic(Out):
    """One run of a job."""

    id: int
    job: str
    status: str
    params: dict[str, Any]
    summary: dict[str, Any] | None
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class PlanIn(In):
    """Parameters of a planning run."""

    review_days: Annotated[int, Field(ge=1, le=90)] = 7


JOB_SORT = job_runs.SORTABLE
JobSort = Annotated[str, sort_query(list(JOB_SORT), "-id")]


@router.get("")
def list_jobs(who: Viewer, ctx: Ctx, page: Paged, job: str | None = None,
              status: Literal["running", "succeeded", "failed"] | None = None,
              sort: JobSort = "-id") -> Page[JobRunPublic]:
    """Job runs, newest first (filter by job and status)."""
    with ctx.uow() as uow:
        rows, total = job_runs.list_runs(uow, who, page_request(page, sort), job=job,
                                         status=status)
    return Page(items=[JobRunPublic(**r) for r in rows], limit=page.limit,
                offset=page.offset, total=total)


@router.get("/{run_id}")
def get_job(run_id: RowId, who: Viewer, ctx: Ctx) -> JobRunPublic:
    """One job run."""
    with ctx.uow() as uow:
        return JobRunPublic(**job_runs.get_run(uow, who, run_id))


@router.post("/plan", status_code=201)
def trigger_plan(body: PlanIn, who: Planner, ctx: Ctx, idem: Idem) -> JobRunPublic:
    """Run the planning job now (policies and suggestions from the latest forecast).

    A failed run is recorded with its error and answered as a problem.
    """
    state: dict[str, Any] = {}

    def plan() -> dict[str, Any]:
        from stockpilot.jobs.plan import run_plan

        done = run_plan(ctx.engine, ctx.history, review_days=body.review_days,
                        sourcing_routes=ctx.settings.sourcing,
                        service_levels=ctx.settings.service_levels)
        due = done.filter(done["order_qty"] > 0)
        from stockpilot.usecases.money import currencies

        # rounded to the currency's minor unit: a float sum is 18864.899999999998
        value = currencies(ctx.settings, ctx.history).number(float(due["order_value"].sum()))
        return {"planned": done.height, "due": due.height, "order_value": value}

    def work() -> None:
        state["id"] = run_job(ctx.engine, "plan", body.model_dump(), plan, who)

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        return 201, JobRunPublic(**job_runs.get_run(uow, who, state["id"]))

    return idem.run(body, effect, before=work)  # type: ignore[return-value]
