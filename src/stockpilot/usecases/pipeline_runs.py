"""Pipeline runs, recorded: a run is a ``job_runs`` row (job ``pipeline``), its steps rows.

:mod:`stockpilot.jobs.pipeline` runs the steps and records each through these functions, each
in its own short unit of work (a crash mid-step leaves ``running`` behind, which a resume
treats as not done). Readers — CLI, API, dashboard, ``/metrics`` — use :func:`list_runs`,
:func:`get_run` and :func:`last_run`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from stockpilot.errors import NotFound
from stockpilot.store import schema_pipeline as tp
from stockpilot.store import schema_runs as tr
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import job_runs
from stockpilot.usecases.actor import Actor, require
from stockpilot.usecases.paging import PageRequest

JOB = "pipeline"
S = tp.pipeline_steps.c
J = tr.job_runs.c


def start_run(uow: UnitOfWork, actor: Actor, steps: Sequence[str], params: dict[str, Any]
              ) -> int:
    """Record a new run of ``steps`` (all ``pending``); returns its id."""
    run_id = job_runs.start(uow, actor, JOB, {**params, "steps": list(steps)})
    uow.conn.execute(insert(tp.pipeline_steps), [
        {"run_id": run_id, "position": i, "step": s, "status": "pending", "attempts": 0}
        for i, s in enumerate(steps)])
    return run_id


def reopen_run(uow: UnitOfWork, actor: Actor, run_id: int) -> list[dict[str, Any]]:
    """Mark a finished run ``running`` again (a resume); returns its steps in order."""
    require(actor, "planner")
    run = job_runs.get_run(uow, actor, run_id)
    if run["job"] != JOB:
        raise NotFound(f"job run {run_id} is a {run['job']!r} run, not a pipeline run")
    uow.conn.execute(update(tr.job_runs).where(J.id == run_id).values(
        status="running", error=None, finished_at=None))
    return steps_of(uow, run_id)


def step_started(uow: UnitOfWork, run_id: int, step: str) -> None:
    """A step began (another attempt when it ran before)."""
    uow.conn.execute(update(tp.pipeline_steps).where(S.run_id == run_id, S.step == step)
                     .values(status="running", started_at=datetime.now(UTC), finished_at=None,
                             error=None, attempts=S.attempts + 1))


def step_finished(uow: UnitOfWork, run_id: int, step: str, status: str, *,
                  rows: int | None = None, forecast_run_id: str | None = None,
                  plan_run_id: str | None = None, detail: dict[str, Any] | None = None,
                  error: str | None = None) -> None:
    """A step ended: ``succeeded``, ``skipped`` (nothing to do) or ``failed`` with ``error``."""
    uow.conn.execute(update(tp.pipeline_steps).where(S.run_id == run_id, S.step == step)
                     .values(status=status, finished_at=datetime.now(UTC), rows=rows,
                             forecast_run_id=forecast_run_id, plan_run_id=plan_run_id,
                             detail=detail, error=error))


def finish_run(uow: UnitOfWork, run_id: int, error: str | None = None) -> None:
    """The run ended; its summary is the steps' statuses and rows."""
    summary = {s["step"]: {"status": s["status"], "rows": s["rows"]}
               for s in steps_of(uow, run_id)}
    job_runs.finish(uow, run_id, summary, error)


def steps_of(uow: UnitOfWork, run_id: int) -> list[dict[str, Any]]:
    """The steps of one run, in order."""
    rows = uow.conn.execute(select(tp.pipeline_steps).where(S.run_id == run_id)
                            .order_by(S.position)).all()
    return [dict(r._mapping) for r in rows]


def get_run(uow: UnitOfWork, actor: Actor, run_id: int) -> dict[str, Any]:
    """One pipeline run with its ``steps`` (:class:`NotFound` when there is none)."""
    run = job_runs.get_run(uow, actor, run_id)
    if run["job"] != JOB:
        raise NotFound(f"no pipeline run {run_id}")
    return {**run, "steps": steps_of(uow, run_id)}


def list_runs(uow: UnitOfWork, actor: Actor, page: PageRequest, *, status: str | None = None
              ) -> tuple[list[dict[str, Any]], int]:
    """Pipeline runs with their steps: one page and the total."""
    rows, total = job_runs.list_runs(uow, actor, page, job=JOB, status=status)
    return [{**r, "steps": steps_of(uow, r["id"])} for r in rows], total


def last_run(uow: UnitOfWork) -> dict[str, Any] | None:
    """The newest finished pipeline run (``None`` before the first), for ``/metrics``."""
    row = uow.conn.execute(select(tr.job_runs).where(
        J.job == JOB, J.status != "running").order_by(J.id.desc()).limit(1)).first()
    return None if row is None else dict(row._mapping)
