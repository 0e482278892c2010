"""Simulations: stored policy comparisons, and small ones run on request."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field, model_validator
from sqlalchemy import Connection, select

from stockpilot.api.auth import Principal
from stockpilot.api.context import ApiContext
from stockpilot.api.deps import Ctx, Page, Paged, Planner, Viewer, order_by, page_of, sort_query
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import In, Out, RowId, Text128
from stockpilot.errors import NotFound, StockpilotError
from stockpilot.jobs.runs import store_simulation
from stockpilot.store import schema_runs as tr

router = APIRouter(tags=["simulations"], responses={**COMMON, **WRITES})
MAX_DAYS = 120


class SimulationCreate(In):
    """A small replay: ≤ 120 days, ≤ 200 series (the first by id at the key's locations)."""

    name: Text128 = "api"
    start: date
    end: date
    lead_time_days: Annotated[int, Field(ge=1, le=120)] = 7
    review_days: Annotated[int, Field(ge=1, le=90)] = 7
    service_level: Annotated[float, Field(ge=0.5, le=0.995)] = 0.95
    max_series: Annotated[int, Field(ge=1, le=200)] = 50

    @model_validator(mode="after")
    def _window(self) -> SimulationCreate:
        days = (self.end - self.start).days
        if not 7 <= days <= MAX_DAYS:
            raise ValueError(f"end must be 7 to {MAX_DAYS} days after start")
        return self


class SimulationSummary(Out):
    """A stored simulation without its rows."""

    id: int
    name: str
    params: dict[str, Any]
    created_at: datetime


class SimulationPublic(SimulationSummary):
    """A stored simulation: one KPI row per policy and knob."""

    rows: list[dict[str, Any]]


R = tr.simulation_runs.c
SIM_SORT = {"id": R.id, "created_at": R.created_at, "name": R.name}
SimSort = Annotated[str, sort_query(list(SIM_SORT), "-id")]


@router.get("/simulations")
def list_simulations(who: Viewer, ctx: Ctx, page: Paged, sort: SimSort = "-id"
                     ) -> Page[SimulationSummary]:
    """Stored simulation runs."""
    del who
    stmt = select(R.id, R.name, R.params, R.created_at)
    with ctx.read() as conn:
        rows, total = page_of(conn, stmt, page, order_by(sort, SIM_SORT))
    return Page(items=[SimulationSummary(**r) for r in rows], limit=page.limit,
                offset=page.offset, total=total)


@router.get("/simulations/{run_id}")
def get_simulation(run_id: RowId, who: Viewer, ctx: Ctx) -> SimulationPublic:
    """One stored simulation with its KPI rows."""
    del who
    with ctx.read() as conn:
        row = conn.execute(select(tr.simulation_runs).where(R.id == run_id)).first()
    if row is None:
        raise NotFound(f"no simulation {run_id}")
    return SimulationPublic(**row._mapping)


def _compare(ctx: ApiContext, who: Principal, body: SimulationCreate) -> list[dict[str, Any]]:
    import polars as pl

    from stockpilot.forecast.data import to_long
    from stockpilot.simulate.engine import Setup
    from stockpilot.simulate.run import compare

    locations = sorted(who.locations) if who.locations is not None else None
    daily = ctx.history.daily(end=body.end, locations=locations)
    df = to_long(daily).with_columns(pl.col("y").clip(lower_bound=0))
    if df.is_empty() or df["ds"].min() >= body.start:  # type: ignore[operator]
        raise StockpilotError("no demand history before the simulated window")
    ids = sorted(df["unique_id"].unique().to_list())[:body.max_series]
    df = df.filter(pl.col("unique_id").is_in(ids))
    cmp = compare(df, body.start, body.end, Setup(body.lead_time_days, body.review_days),
                  service_levels=sorted({0.8, 0.9, body.service_level}), ks=(1.0, 2.0),
                  keep=body.service_level)
    return [{k: (float(v) if isinstance(v, int | float) else v) for k, v in r.items()}
            for r in cmp.rows]


@router.post("/simulations", status_code=201)
def run_simulation(body: SimulationCreate, who: Planner, ctx: Ctx, idem: Idem
                   ) -> SimulationPublic:
    """Replay a small window under each policy now and store the KPI rows."""
    done: dict[str, Any] = {}

    def work() -> None:
        done["rows"] = _compare(ctx, who, body)

    def effect(conn: Connection) -> tuple[int, Any]:
        params = body.model_dump(mode="json", exclude={"name"})
        run_id = store_simulation(conn, body.name, params, done["rows"])
        row = conn.execute(select(tr.simulation_runs).where(R.id == run_id)).one()
        return 201, SimulationPublic(**row._mapping)

    return idem.run(body, effect, before=work)  # type: ignore[return-value]
