"""Jobs: the run history, and triggering a planning run."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy import Connection, select

from stockpilot.api.deps import Ctx, Page, Paged, Planner, Viewer, order_by, page_of, sort_query
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import In, Out, RowId
from stockpilot.errors import NotFound
from stockpilot.jobs.runs import finish_run, start_run
from stockpilot.store import schema_runs as tr

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


J = tr.job_runs.c
JOB_SORT = {"id": J.id, "started_at": J.started_at, "job": J.job}
JobSort = Annotated[str, sort_query(list(JOB_SORT), "-id")]


def _get(conn: Connection, run_id: int) -> JobRunPublic:
    row = conn.execute(select(tr.job_runs).where(J.id == run_id)).first()
    if row is None:
        raise NotFound(f"no job run {run_id}")
    return JobRunPublic(**row._mapping)


@router.get("")
def list_jobs(who: Viewer, ctx: Ctx, page: Paged, job: str | None = None,
              status: Literal["running", "succeeded", "failed"] | None = None,
              sort: JobSort = "-id") -> Page[JobRunPublic]:
    """Job runs, newest first (filter by job and status)."""
    del who
    stmt = select(tr.job_runs)
    for col, value in ((J.job, job), (J.status, status)):
        if value is not None:
            stmt = stmt.where(col == value)
    with ctx.read() as conn:
        rows, total = page_of(conn, stmt, page, order_by(sort, JOB_SORT))
    return Page(items=[JobRunPublic(**r) for r in rows], limit=page.limit,
                offset=page.offset, total=total)


@router.get("/{run_id}")
def get_job(run_id: RowId, who: Viewer, ctx: Ctx) -> JobRunPublic:
    """One job run."""
    del who
    with ctx.read() as conn:
        return _get(conn, run_id)


@router.post("/plan", status_code=201)
def trigger_plan(body: PlanIn, who: Planner, ctx: Ctx, idem: Idem) -> JobRunPublic:
    """Run the planning job now (policies and suggestions from the latest forecast).

    A failed run is recorded with its error and answered as a problem.
    """
    del who
    state: dict[str, Any] = {}

    def work() -> None:
        from stockpilot.jobs.plan import run_plan

        state["id"] = start_run(ctx.engine, "plan", body.model_dump())
        try:
            plan = run_plan(ctx.engine, ctx.history, review_days=body.review_days,
                            sourcing_routes=ctx.settings.sourcing,
                            service_levels=ctx.settings.service_levels)
        except Exception as exc:
            with ctx.engine.begin() as conn:
                finish_run(conn, state["id"], None, f"{type(exc).__name__}: {exc}")
            raise
        due = plan.filter(plan["order_qty"] > 0)
        state["summary"] = {"planned": plan.height, "due": due.height,
                            "order_value": float(due["order_value"].sum())}

    def effect(conn: Connection) -> tuple[int, Any]:
        finish_run(conn, state["id"], state["summary"])
        return 201, _get(conn, state["id"])

    return idem.run(body, effect, before=work)  # type: ignore[return-value]
