"""A/B tests of recommenders: start, stop, which variant a customer gets, the report.

At most one experiment runs at a time; while it runs, every customer request that does not
name a model is served by the customer's variant (sticky by hash, see
:mod:`stockpilot.recommend.abtest`). The report counts the feedback recorded with the
experiment's name (:mod:`stockpilot.usecases.recommend_feedback`).

:func:`start` and :func:`stop` work on the caller's open connection (``transact`` or the API's
idempotency record); the reads take an open :class:`~stockpilot.store.uow.UnitOfWork`, and the
report the :class:`~stockpilot.usecases.actor.Actor`, whose locations' feedback it counts.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, case, func, select, update

from stockpilot.errors import NotFound, StockpilotError
from stockpilot.recommend.abtest import Counts, Variant, assign, check_variants, report, winner
from stockpilot.store.schema_recommend import rec_experiments, rec_feedback
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor

CACHE_S = 2.0  # how long a server trusts the running experiment it looked up


class ExperimentConflict(StockpilotError):
    """Another experiment is running, or this one already exists or has stopped."""

    status = 409
    title = "Experiment conflict"


def start(conn: Connection, name: str, variants: list[Variant]) -> dict[str, Any]:
    """Start experiment ``name`` with ``variants`` (the first one is the control).

    Runs on the caller's open transaction (the caller commits).
    """
    check_variants(variants)
    x = rec_experiments.c
    running = conn.execute(select(x.name).where(x.status == "running")).scalar()
    if running is not None:
        raise ExperimentConflict(f"experiment {running!r} is running; stop it first")
    if conn.execute(select(x.name).where(x.name == name)).scalar() is not None:
        raise ExperimentConflict(f"experiment {name!r} exists already; choose a new name")
    row = {"name": name, "variants": [v.as_dict() for v in variants], "status": "running",
           "started_at": datetime.now(UTC), "stopped_at": None}
    conn.execute(rec_experiments.insert().values(**row))
    _CACHE.clear()
    return row


def stop(conn: Connection, name: str) -> dict[str, Any]:
    """Stop a running experiment (its feedback and report stay); the caller commits."""
    x = rec_experiments.c
    done = conn.execute(update(rec_experiments).where(
        x.name == name, x.status == "running").values(
        status="stopped", stopped_at=datetime.now(UTC))).rowcount
    row = conn.execute(select(rec_experiments).where(x.name == name)).mappings().first()
    if row is None:
        raise NotFound(f"no experiment named {name!r}")
    if not done:
        raise ExperimentConflict(f"experiment {name!r} is not running")
    _CACHE.clear()
    return dict(row)


def get(uow: UnitOfWork, name: str) -> dict[str, Any]:
    """One experiment as stored (NotFound when there is none of that name)."""
    row = uow.conn.execute(select(rec_experiments).where(
        rec_experiments.c.name == name)).mappings().first()
    if row is None:
        raise NotFound(f"no experiment named {name!r}")
    return dict(row)


def listing(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every experiment, newest first."""
    rows = uow.conn.execute(select(rec_experiments).order_by(
        rec_experiments.c.started_at.desc())).mappings().all()
    return [dict(r) for r in rows]


class _Running:
    """The running experiment per engine, looked up at most every ``CACHE_S`` seconds."""

    def __init__(self) -> None:
        self._hits: dict[int, tuple[float, tuple[str, list[Variant]] | None]] = {}
        self._lock = threading.Lock()

    def get(self, uow: UnitOfWork) -> tuple[str, list[Variant]] | None:
        now = time.monotonic()
        with self._lock:
            hit = self._hits.get(id(uow.engine))
        if hit is not None and hit[0] > now:
            return hit[1]
        x = rec_experiments.c
        row = uow.conn.execute(select(x.name, x.variants).where(x.status == "running")).first()
        found = None if row is None else (row[0], [Variant(**v) for v in row[1]])
        with self._lock:
            self._hits[id(uow.engine)] = (now + CACHE_S, found)
        return found

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()


_CACHE = _Running()


def variant_for(uow: UnitOfWork, customer: str) -> tuple[str, Variant] | None:
    """(experiment, variant) serving ``customer`` now, or None when no experiment runs.

    Reads ``uow`` only when the cached lookup (per engine, :data:`CACHE_S`) has expired.
    """
    running = _CACHE.get(uow)
    if running is None:
        return None
    return running[0], assign(running[0], customer, running[1])


def experiment_report(uow: UnitOfWork, actor: Actor, name: str, alpha: float = 0.05
                      ) -> dict[str, Any]:
    """Per variant: impressions, CTR, conversion, revenue per impression (with intervals), power.

    Counts the feedback recorded at the actor's locations. The first variant is the control;
    ``winner`` names the variant whose conversion interval lies above every other's (None
    while the test cannot tell).
    """
    exp = get(uow, name)
    c = rec_feedback.c
    q = select(c.variant,
               func.sum(case((c.kind == "impression", 1), else_=0)),
               func.sum(case((c.kind == "click", 1), else_=0)),
               func.sum(case((c.kind == "add_to_cart", 1), else_=0)),
               func.coalesce(func.sum(case((c.kind == "purchase", c.value), else_=0)), 0),
               func.coalesce(func.sum(case((c.kind == "purchase", c.value * c.value),
                                           else_=0)), 0)).where(
        c.experiment == name).group_by(c.variant)
    if actor.locations is not None:
        q = q.where(c.location.in_(actor.scope() or []))
    found = {r[0]: r[1:] for r in uow.conn.execute(q)}
    names = [v["name"] for v in exp["variants"]]
    counts = {n: _counts(found.get(n)) for n in names}
    rows = report(counts, names[0], alpha)
    return {"experiment": name, "status": exp["status"], "control": names[0],
            "variants": exp["variants"], "rows": rows, "winner": winner(rows),
            "winner_by_revenue": winner(rows, "revenue_per_impression")}


def _counts(row: Any) -> Counts:
    """One variant's sums from the report query (zeros when it recorded nothing)."""
    if row is None:
        return Counts(0, 0, 0, 0.0, 0.0)
    return Counts(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0), float(row[3] or 0),
                  float(row[4] or 0))
