"""Run history: each job run and each stored simulation is a row (``store/schema_runs``).

``run_job`` records a run as ``running`` in its own short transaction before the work starts
(so a crash leaves a trace) and as ``succeeded``/``failed`` with a summary afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, update

from stockpilot.store import schema_runs as tr


def start_run(engine: Engine, job: str, params: dict[str, Any]) -> int:
    """Record that ``job`` started; returns the run id."""
    with engine.begin() as conn:
        return int(conn.execute(insert(tr.job_runs).values(
            job=job, status="running", params=params, started_at=datetime.now(UTC))
            .returning(tr.job_runs.c.id)).scalar_one())


def finish_run(conn: Connection, run_id: int, summary: dict[str, Any] | None,
               error: str | None = None) -> None:
    """Mark a run finished (on the caller's transaction, beside the run's own writes)."""
    conn.execute(update(tr.job_runs).where(tr.job_runs.c.id == run_id).values(
        status="failed" if error else "succeeded", summary=summary, error=error,
        finished_at=datetime.now(UTC)))


def run_job(engine: Engine, job: str, params: dict[str, Any],
            work: Callable[[], dict[str, Any]]) -> int:
    """Run ``work`` as a recorded job; re-raises its error after recording it."""
    run_id = start_run(engine, job, params)
    try:
        summary = work()
    except Exception as exc:
        with engine.begin() as conn:
            finish_run(conn, run_id, None, f"{type(exc).__name__}: {exc}")
        raise
    with engine.begin() as conn:
        finish_run(conn, run_id, summary)
    return run_id


def store_simulation(conn: Connection, name: str, params: dict[str, Any],
                     rows: list[dict[str, Any]]) -> int:
    """Keep a simulation's KPI rows; returns the stored run's id."""
    return int(conn.execute(insert(tr.simulation_runs).values(
        name=name, params=params, rows=rows, created_at=datetime.now(UTC))
        .returning(tr.simulation_runs.c.id)).scalar_one())
