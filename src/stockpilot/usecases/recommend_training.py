"""Train and refresh the served recommender on the workspace's order lines (and feedback).

:func:`refresh` is the step the nightly pipeline calls: when order lines newer than the served
model's cut-off exist, it refits the same model (same parameters; the hybrid keeps the blend
weights it chose, so the month-long tuning is not repeated) on everything up to the newest
line, folds in implicit feedback (add-to-carts), swaps the file atomically (a running server
picks it up on its next request) and records how long it took.

Each function takes an open, read-only-enough :class:`~stockpilot.store.uow.UnitOfWork` (it
only reads order lines and feedback; the model goes to files). Training is the shop's whole
history, not located stock, so there is no actor to scope it.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import polars as pl

from stockpilot.errors import NotFound
from stockpilot.recommend.service import DEFAULT_MODEL, Trained, fit, load, save
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import SYSTEM
from stockpilot.usecases.recommend_feedback import fold, implicit_lines
from stockpilot.usecases.recommendations import order_lines

RUNS = "refresh_runs.jsonl"


def training_lines(uow: UnitOfWork, cutoff: datetime | None = None,
                   with_feedback: bool = True) -> pl.DataFrame:
    """The workspace's order lines, plus add-to-carts as implicit lines when asked."""
    lines = order_lines(uow, SYSTEM)
    if lines.is_empty():
        raise NotFound("the workspace has no order lines to train the recommender on")
    if not with_feedback:
        return lines
    before = cutoff or datetime.now(UTC).replace(tzinfo=None)
    return fold(lines, implicit_lines(uow, before.replace(tzinfo=UTC)))


def train_workspace(uow: UnitOfWork, folder: Path, cutoff: datetime,
                    model: str = DEFAULT_MODEL, params: dict[str, Any] | None = None,
                    with_feedback: bool = True) -> Trained:
    """Fit ``model`` on the workspace's lines (and feedback) before ``cutoff``; save it."""
    trained = fit(training_lines(uow, cutoff, with_feedback), cutoff, model, params)
    save(trained, folder)
    return trained


def refresh(uow: UnitOfWork | None, folder: Path, model: str = DEFAULT_MODEL,
            lines: pl.DataFrame | None = None, with_feedback: bool = True) -> dict[str, Any]:
    """Refit the served ``model`` when newer order lines exist; returns what happened.

    ``lines`` replaces the workspace's order lines (e.g. a file); the new cut-off is one
    second after the newest line. The run (times, sizes) is appended to ``refresh_runs.jsonl``
    in ``folder``. ``uow`` may be None when ``lines`` are given (a benchmark on a file).
    """
    started = time.perf_counter()
    old = load(folder, model)
    if lines is None:
        if uow is None:
            raise ValueError("refresh needs a unit of work or the lines to train on")
        lines = training_lines(uow, None, with_feedback)
    ordered = lines.filter(~pl.col("order_id").str.starts_with("feedback:"))
    newest = cast(datetime | None, ordered["at"].max())
    run: dict[str, Any] = {"model": model, "at": datetime.now(UTC).isoformat(),
                           "old_cutoff": old.cutoff.isoformat()}
    if newest is None or newest < old.cutoff:
        run.update(refreshed=False, reason="no order lines after the model's cut-off")
    else:
        cutoff = newest + timedelta(seconds=1)
        params = {k: v for k, v in old.params.items() if k != "weights"}
        new = fit(lines, cutoff, model, params or None, old.params.get("weights"))
        save(new, folder)
        run.update(refreshed=True, cutoff=cutoff.isoformat(), fit_s=round(new.fit_s, 3),
                   customers=len(new.users), items=len(new.items),
                   new_customers=len(set(new.users) - set(old.users)))
    run["total_s"] = round(time.perf_counter() - started, 3)
    with (folder / RUNS).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(run) + "\n")
    return run
