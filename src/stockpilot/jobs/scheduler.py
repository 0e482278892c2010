"""The scheduler: APScheduler fires the ``[schedule]`` jobs; a database lock keeps one run.

``[schedule]`` in stockpilot.toml maps a job to a crontab line::

    [schedule]
    pipeline = "0 2 * * *"     # every step, nightly at 02:00
    alerts = "*/30 * * * *"    # one step alone

Within a process APScheduler runs one instance of a job at a time (``max_instances=1``); across
processes and machines :func:`stockpilot.usecases.job_locks.job_lock` does (a PostgreSQL
advisory lock, a lock row on SQLite): the scheduler that does not get the lock skips that firing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from stockpilot.errors import ConfigError
from stockpilot.jobs.pipeline import run_pipeline
from stockpilot.jobs.pipeline_steps import REGISTRY, STEPS, Context, Step
from stockpilot.usecases.job_locks import job_lock

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from stockpilot.config import Settings
    from stockpilot.store.history import HistoryStore

log = logging.getLogger(__name__)


def steps_of_job(job: str) -> list[str]:
    """``pipeline`` runs every step; a step's own name runs it alone."""
    if job == "pipeline":
        return list(STEPS)
    if job in STEPS:
        return [job]
    raise ConfigError(f"[schedule] {job!r}: a job is 'pipeline' or a step "
                      f"({', '.join(STEPS)})")


def triggers(schedule: Mapping[str, str]) -> dict[str, BaseTrigger]:
    """A cron trigger (UTC) per ``[schedule]`` entry; a bad line is a :class:`ConfigError`."""
    out: dict[str, BaseTrigger] = {}
    for job, cron in schedule.items():
        steps_of_job(job)
        try:
            out[job] = CronTrigger.from_crontab(cron, timezone="UTC")
        except ValueError as exc:
            raise ConfigError(f"[schedule] {job} = {cron!r}: {exc}") from exc
    return out


def run_locked(engine: Engine, history: HistoryStore, settings: Settings, job: str,
               registry: Mapping[str, Step] = REGISTRY) -> int | None:
    """Run ``job`` if no other scheduler is running it: its run id, or None when skipped."""
    with job_lock(engine, f"schedule:{job}") as got:
        if not got:
            log.info("scheduled %s skipped: another scheduler is running it", job)
            return None
        ctx = Context(engine, history, settings)
        return run_pipeline(ctx, steps_of_job(job), trigger="schedule", registry=registry)


def build(engine: Engine, history: HistoryStore, settings: Settings,
          trig: Mapping[str, BaseTrigger] | None = None,
          registry: Mapping[str, Step] = REGISTRY,
          on_done: Callable[[str, int | None], Any] | None = None) -> BackgroundScheduler:
    """A (not yet started) scheduler with one job per trigger (default ``[schedule]``)."""
    sched = BackgroundScheduler(timezone="UTC")
    for job, trigger in (trig if trig is not None else triggers(settings.schedule)).items():
        def fire(job: str = job) -> None:
            got = run_locked(engine, history, settings, job, registry)
            if on_done is not None:
                on_done(job, got)
        sched.add_job(fire, trigger, id=job, name=job, max_instances=1, coalesce=True,
                      misfire_grace_time=3600)
    return sched
