"""Job runs: each run of a named job (``plan``, …) is a row — when, how it ended, what it did.

:func:`stockpilot.jobs.runs.run_job` is the one recorder (CLI, API, scheduler): it records a
run as ``running`` in its own short transaction before the work starts (so a crash leaves a
trace) and as ``succeeded``/``failed`` with a summary afterwards.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from stockpilot.errors import NotFound
from stockpilot.store import schema_runs as tr
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, require
from stockpilot.usecases.paging import PageRequest, page_of

J = tr.job_runs.c
SORTABLE = {"id": J.id, "started_at": J.started_at, "job": J.job}


def start(uow: UnitOfWork, actor: Actor, job: str, params: dict[str, Any]) -> int:
    """Record that ``job`` started; returns the run id."""
    require(actor, "planner")
    return int(uow.conn.execute(insert(tr.job_runs).values(
        job=job, status="running", params=params, started_at=datetime.now(UTC))
        .returning(J.id)).scalar_one())


def finish(uow: UnitOfWork, run_id: int, summary: dict[str, Any] | None,
           error: str | None = None) -> None:
    """Mark a run finished: ``failed`` with ``error``, else ``succeeded`` with ``summary``."""
    uow.conn.execute(update(tr.job_runs).where(J.id == run_id).values(
        status="failed" if error else "succeeded", summary=summary, error=error,
        finished_at=datetime.now(UTC)))


def get_run(uow: UnitOfWork, actor: Actor, run_id: int) -> dict[str, Any]:
    """One run (:class:`NotFound` when there is none)."""
    row = uow.conn.execute(select(tr.job_runs).where(J.id == run_id)).first()
    if row is None:
        raise NotFound(f"no job run {run_id}")
    return dict(row._mapping)


def list_runs(uow: UnitOfWork, actor: Actor, page: PageRequest, *, job: str | None = None,
              status: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Runs, filtered by job and status: one page and the total."""
    stmt = select(tr.job_runs)
    for col, value in ((J.job, job), (J.status, status)):
        if value is not None:
            stmt = stmt.where(col == value)
    return page_of(uow.conn, stmt, page, SORTABLE)
