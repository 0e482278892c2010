"""Simulations: stored policy comparisons, and small ones run on request."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field, model_validator

from stockpilot.api.deps import Ctx, Page, Paged, Planner, Viewer, page_request, sort_query
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import In, Out, RowId, Text128
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import simulations

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


SIM_SORT = simulations.SORTABLE
SimSort = Annotated[str, sort_query(list(SIM_SORT), "-id")]


@router.get("/simulations")
def list_simulations(who: Viewer, ctx: Ctx, page: Paged, sort: SimSort = "-id"
                     ) -> Page[SimulationSummary]:
    """Stored simulation runs."""
    with ctx.uow() as uow:
        rows, total = simulations.list_runs(uow, who, page_request(page, sort))
    return Page(items=[SimulationSummary(**r) for r in rows], limit=page.limit,
                offset=page.offset, total=total)


@router.get("/simulations/{run_id}")
def get_simulation(run_id: RowId, who: Viewer, ctx: Ctx) -> SimulationPublic:
    """One stored simulation with its KPI rows."""
    with ctx.uow() as uow:
        return SimulationPublic(**simulations.get_run(uow, who, run_id))


@router.post("/simulations", status_code=201)
def run_simulation(body: SimulationCreate, who: Planner, ctx: Ctx, idem: Idem
                   ) -> SimulationPublic:
    """Replay a small window under each policy now and store the KPI rows."""
    done: dict[str, Any] = {}

    def work() -> None:
        done["rows"] = simulations.replay_window(
            ctx.history, who, body.start, body.end, lead_time_days=body.lead_time_days,
            review_days=body.review_days, service_level=body.service_level,
            max_series=body.max_series)

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        params = body.model_dump(mode="json", exclude={"name"})
        run_id = simulations.store(uow, who, body.name, params, done["rows"])
        return 201, SimulationPublic(**simulations.get_run(uow, who, run_id))

    return idem.run(body, effect, before=work)  # type: ignore[return-value]
