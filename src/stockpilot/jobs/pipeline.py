"""The nightly pipeline: named steps run in order, each recorded, resumable after a failure.

``run_pipeline`` records a run (a ``job_runs`` row, job ``pipeline``) with one row per step
(:mod:`stockpilot.usecases.pipeline_runs`), runs the steps of
:mod:`stockpilot.jobs.pipeline_steps` in order and stops at the first failure. ``resume``
re-runs that run's steps that did not succeed — never the ones before them, whose outputs
(history, forecast, plan) are already stored. A failed run raises a ``pipeline_failed`` alert
through the alert channels (``[alerts.routes]``), like any rule; the next run that succeeds
resolves it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from stockpilot.errors import StockpilotError
from stockpilot.jobs.pipeline_steps import REGISTRY, STEPS, Context, Step, StepResult
from stockpilot.store.uow import writing
from stockpilot.usecases import pipeline_runs
from stockpilot.usecases.actor import SYSTEM, Actor

log = logging.getLogger(__name__)
Progress = Callable[[str, str], None]


class UnknownStep(StockpilotError):
    """A step name that is not one of :data:`STEPS`."""


def select_steps(steps: Sequence[str] | None = None, start: str | None = None) -> list[str]:
    """The steps to run, in pipeline order: ``steps`` (default all), from ``start`` on."""
    chosen = list(steps) if steps else list(STEPS)
    for name in [*chosen, *([start] if start else [])]:
        if name not in STEPS:
            raise UnknownStep(f"unknown pipeline step {name!r}: one of {', '.join(STEPS)}")
    if start:
        chosen = [s for s in chosen if STEPS.index(s) >= STEPS.index(start)]
    return sorted(set(chosen), key=STEPS.index)


def run_pipeline(ctx: Context, steps: Sequence[str] | None = None, start: str | None = None,
                 *, trigger: str = "manual", actor: Actor = SYSTEM,
                 progress: Progress | None = None,
                 registry: Mapping[str, Step] = REGISTRY) -> int:
    """Record and run a new pipeline run; returns its id (its status tells how it ended)."""
    names = select_steps(steps, start)
    with writing(ctx.engine) as uow:
        ctx.run_id = pipeline_runs.start_run(uow, actor, names, {"trigger": trigger})
    _run(ctx, names, progress, registry)
    return ctx.run_id


def resume(ctx: Context, run_id: int, *, actor: Actor = SYSTEM,
           progress: Progress | None = None, registry: Mapping[str, Step] = REGISTRY) -> int:
    """Run again the steps of run ``run_id`` that did not succeed (same run id)."""
    with writing(ctx.engine) as uow:
        steps = pipeline_runs.reopen_run(uow, actor, run_id)
    ctx.run_id = run_id
    todo = [s["step"] for s in steps if s["status"] not in ("succeeded", "skipped")]
    for s in steps:
        if s["status"] in ("succeeded", "skipped"):  # the summary names them, not redone
            ctx.results[s["step"]] = StepResult(s["rows"], s["forecast_run_id"],
                                                s["plan_run_id"], s["detail"] or {},
                                                s["status"] == "skipped")
    _run(ctx, todo, progress, registry)
    return run_id


def _run(ctx: Context, names: Sequence[str], progress: Progress | None,
         registry: Mapping[str, Step]) -> None:
    say = progress or (lambda _s, _m: None)
    for name in names:
        error = _step(ctx, name, registry[name], say)
        if error is not None:
            for rest in names[names.index(name) + 1:]:
                say(rest, "not run")
            with writing(ctx.engine) as uow:
                pipeline_runs.finish_run(uow, ctx.run_id, f"step {name}: {error}")
            raise_failure_alert(ctx, name, error)
            return
    with writing(ctx.engine) as uow:
        pipeline_runs.finish_run(uow, ctx.run_id)
    resolve_failure_alerts(ctx)


def _step(ctx: Context, name: str, fn: Step, say: Callable[[str, str], None]) -> str | None:
    """Run one step, recorded; returns its error text, or None when it did not fail."""
    with writing(ctx.engine) as uow:
        pipeline_runs.step_started(uow, ctx.run_id, name)
    say(name, "running")
    try:
        got = fn(ctx)
    except Exception as exc:  # recorded on the step and the run, then alerted
        error = f"{type(exc).__name__}: {exc}"
        # the record carries the error; the traceback only at debug (the CLI shows no traceback)
        log.debug("pipeline run %s: step %s failed", ctx.run_id, name, exc_info=True)
        with writing(ctx.engine) as uow:
            pipeline_runs.step_finished(uow, ctx.run_id, name, "failed", error=error)
        say(name, f"failed: {error}")
        return error
    ctx.results[name] = got
    with writing(ctx.engine) as uow:
        pipeline_runs.step_finished(
            uow, ctx.run_id, name, "skipped" if got.skipped else "succeeded", rows=got.rows,
            forecast_run_id=got.forecast_run_id, plan_run_id=got.plan_run_id,
            detail=_jsonable(got.detail))
    say(name, "skipped" if got.skipped else f"done, {got.rows} rows")
    return None


def _jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    import json

    return dict(json.loads(json.dumps(detail, default=str)))


def raise_failure_alert(ctx: Context, step: str, error: str) -> None:
    """A ``pipeline_failed`` alert on the existing channels (deduplicated like any alert)."""
    from datetime import timedelta

    from stockpilot.alerts.routing import Router
    from stockpilot.alerts.rules import Finding
    from stockpilot.alerts.service import raise_alerts

    cfg = ctx.settings.alerts
    finding = Finding("pipeline_failed", "-", "-", "critical",
                      f"pipeline run {ctx.run_id} failed at step {step} "
                      f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC): {error[:300]} — "
                      f"`stockpilot pipeline run --resume {ctx.run_id}` retries from there")
    try:
        raise_alerts(ctx.engine, [finding], Router.from_settings(cfg), cooldown=timedelta(0))
    except Exception:  # the run's record already says it failed; a broken channel must not hide it
        log.exception("pipeline run %s: could not raise the failure alert", ctx.run_id)


def resolve_failure_alerts(ctx: Context) -> int:
    """Resolve the open ``pipeline_failed`` alert when this run answers it.

    It does when the failed run itself was resumed to success, or when this run ran every
    step (a run of one step, such as ``--steps import``, says nothing about the others).
    """
    whole = set(ctx.results) >= set(STEPS)
    from stockpilot.usecases import alerts
    from stockpilot.usecases.paging import PageRequest

    with writing(ctx.engine) as uow:
        done = 0
        for status in ("open", "acked"):
            rows, _ = alerts.list_alerts(uow, SYSTEM, PageRequest(500, 0, "id"), status=status,
                                         rule="pipeline_failed")
            for row in rows:
                if not whole and not row["message"].startswith(f"pipeline run {ctx.run_id} "):
                    continue
                alerts.set_status(uow, SYSTEM, row["id"], "resolved")
                done += 1
    return done
