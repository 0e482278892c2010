"""Simulations: policy comparisons stored one way — SQL rows (``simulation_runs``).

The CLI (``stockpilot simulate``), the demo job and the API all store their KPI rows here; the
dashboard and the API read them back (the latest run, or one by id). Small replays on request
(the API's ``POST /simulations``) run over the actor's locations only.

A run records the locations it was computed over (``params["locations"]``; absent or null:
every location). Its KPIs aggregate those locations, so an actor limited to locations sees
only runs over its own (issue 17 item 5: ``/ui/simulation`` showed KPIs over other
locations); the others do not exist for it.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import insert, select

from stockpilot.errors import NotFound, StockpilotError
from stockpilot.store import schema_runs as tr
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, require
from stockpilot.usecases.paging import PageRequest, page_of

R = tr.simulation_runs.c
SORTABLE = {"id": R.id, "created_at": R.created_at, "name": R.name}


def _plain(v: Any) -> Any:
    """A JSON-safe value: NaN/inf become None (PostgreSQL's JSON refuses them)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v


def store(uow: UnitOfWork, actor: Actor, name: str, params: dict[str, Any],
          rows: list[dict[str, Any]]) -> int:
    """Keep a simulation's KPI rows (one per policy and knob); returns the run's id."""
    require(actor, "planner")
    clean = [{k: _plain(v) for k, v in r.items()} for r in rows]
    params = {**params, "locations": actor.scope()}  # what the KPIs aggregate over
    return int(uow.conn.execute(insert(tr.simulation_runs).values(
        name=name[:128], params=params, rows=clean, created_at=datetime.now(UTC))
        .returning(R.id)).scalar_one())


def _visible(actor: Actor, params: Any) -> bool:
    """True when the run's locations are all the actor's (a run over all: unscoped only)."""
    if actor.locations is None:
        return True
    locations = params.get("locations") if isinstance(params, dict) else None
    return isinstance(locations, list) and bool(locations) and set(locations) <= actor.locations


def _visible_ids(uow: UnitOfWork, actor: Actor) -> list[int] | None:
    """Ids of the runs the actor may see, newest first (None: all). Runs are few."""
    if actor.locations is None:
        return None
    rows = uow.conn.execute(select(R.id, R.params).order_by(R.id.desc()))
    return [int(r.id) for r in rows if _visible(actor, r.params)]


def list_runs(uow: UnitOfWork, actor: Actor, page: PageRequest
              ) -> tuple[list[dict[str, Any]], int]:
    """Stored runs the actor may see, without their rows: one page and the total."""
    stmt = select(R.id, R.name, R.params, R.created_at)
    ids = _visible_ids(uow, actor)
    if ids is not None:
        stmt = stmt.where(R.id.in_(ids))
    return page_of(uow.conn, stmt, page, SORTABLE)


def get_run(uow: UnitOfWork, actor: Actor, run_id: int) -> dict[str, Any]:
    """One stored run with its rows (:class:`NotFound` when none, or not the actor's)."""
    row = uow.conn.execute(select(tr.simulation_runs).where(R.id == run_id)).first()
    if row is None or not _visible(actor, row.params):
        raise NotFound(f"no simulation {run_id}")
    return dict(row._mapping)


def latest_rows(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """The KPI rows of the newest stored run the actor may see (empty when none)."""
    ids = _visible_ids(uow, actor)
    stmt = select(R.rows).order_by(R.id.desc()).limit(1)
    if ids is not None:
        stmt = stmt.where(R.id.in_(ids[:1]))
    rows = uow.conn.execute(stmt).scalar()
    return list(rows or [])


def replay_window(history: HistoryStore, actor: Actor, start: date, end: date, *,
                  lead_time_days: int, review_days: int, service_level: float,
                  max_series: int) -> list[dict[str, Any]]:
    """A small replay of the actor's series (the first ``max_series`` by id): KPI rows."""
    from stockpilot.forecast.data import to_long
    from stockpilot.simulate.engine import Setup
    from stockpilot.simulate.run import compare

    daily = history.daily(end=end, locations=actor.scope())
    df = to_long(daily).with_columns(pl.col("y").clip(lower_bound=0))
    if df.is_empty() or df["ds"].min() >= start:  # type: ignore[operator]
        raise StockpilotError("no demand history before the simulated window")
    ids = sorted(df["unique_id"].unique().to_list())[:max_series]
    df = df.filter(pl.col("unique_id").is_in(ids))
    cmp = compare(df, start, end, Setup(lead_time_days, review_days),
                  service_levels=sorted({0.8, 0.9, service_level}), ks=(1.0, 2.0),
                  keep=service_level)
    return [{k: _plain(v) for k, v in r.items()} for r in cmp.rows]
