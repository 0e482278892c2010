"""The one run recorder: :func:`run_job` records a job's run around its work.

A run is recorded as ``running`` in its own short transaction before the work starts (so a
crash leaves a trace) and as ``succeeded``/``failed`` with a summary afterwards; the rows are
:mod:`stockpilot.usecases.job_runs`'. Simulations are stored by
:func:`stockpilot.usecases.simulations.store`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stockpilot import retry
from stockpilot.store.uow import writing
from stockpilot.usecases import job_runs
from stockpilot.usecases.actor import SYSTEM, Actor

if TYPE_CHECKING:
    from sqlalchemy import Engine


def run_job(engine: Engine, job: str, params: dict[str, Any],
            work: Callable[[], dict[str, Any]], actor: Actor = SYSTEM) -> int:
    """Run ``work`` as a recorded job; returns the run id; re-raises its error after recording.

    Any end of the work is recorded, an interruption too (``BaseException``: a cancelled
    request, Ctrl-C), and the final write is retried on a busy database, so a run is left
    ``running`` only by a killed process.
    """
    with writing(engine) as uow:
        run_id = job_runs.start(uow, actor, job, params)
    try:
        summary = work()
    except BaseException as exc:
        _finish(engine, run_id, None, f"{type(exc).__name__}: {exc}")
        raise
    _finish(engine, run_id, summary)
    return run_id


def _finish(engine: Engine, run_id: int, summary: dict[str, Any] | None,
            error: str | None = None) -> None:
    def once() -> None:
        with writing(engine) as uow:
            job_runs.finish(uow, run_id, summary, error)

    retry.call(once)
