"""A/B tests of recommenders: start, list, stop, report (variants sticky per customer).

While an experiment runs, ``GET /recommendations/customers/{id}`` without ``model=`` serves each
customer by their variant and names the experiment and variant in the answer; the front end
sends them back with its feedback events, which the report counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import Field

from stockpilot.api.deps import Ctx, Planner, Viewer
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import In, Out
from stockpilot.recommend.abtest import Variant
from stockpilot.usecases import recommend_experiments as ex

router = APIRouter(prefix="/recommendations/experiments", tags=["recommendations"],
                   responses=COMMON)

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
PathName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class VariantIn(In):
    """One arm of the test."""

    name: Name
    model: Annotated[str, Field(max_length=64, pattern=r"^[a-z_]+$")] = "hybrid"
    mode: Literal["substitute", "filter", "boost"] = "substitute"
    weight: Annotated[float, Field(gt=0, le=1000)] = 1.0
    params: dict[str, float] = Field(default_factory=dict)


class ExperimentIn(In):
    """A new experiment; the first variant is the control."""

    name: Name
    variants: Annotated[list[VariantIn], Field(min_length=2, max_length=10)]


class ExperimentOut(Out):
    """An experiment as stored."""

    name: str
    status: str
    variants: list[dict[str, Any]]
    started_at: datetime
    stopped_at: datetime | None = None


class VariantReport(Out):
    """One variant's numbers (intervals are 95%); ``power`` is against the control."""

    variant: str
    impressions: int
    clicks: int
    conversions: int
    ctr: float
    ctr_ci: tuple[float, float]
    conversion: float
    conversion_ci: tuple[float, float]
    revenue: float
    revenue_per_impression: float
    revenue_per_impression_ci: tuple[float, float]
    power: float | None


class ExperimentReport(Out):
    """Per-variant numbers and the variant that wins (None while the test cannot tell)."""

    experiment: str
    status: str
    control: str
    rows: list[VariantReport]
    winner: str | None
    winner_by_revenue: str | None


@router.post("", status_code=201, responses=WRITES)
def start(body: ExperimentIn, who: Planner, ctx: Ctx, idem: Idem) -> ExperimentOut:
    """Start an A/B test (409 while another runs or when the name is taken)."""
    del who
    variants = [Variant(**v.model_dump()) for v in body.variants]
    return idem.run(body, lambda uow: (201, ExperimentOut(**ex.start(  # type: ignore[return-value]
        uow.conn, body.name, variants))))


@router.get("")
def listing(who: Viewer, ctx: Ctx) -> list[ExperimentOut]:
    """Every experiment, newest first."""
    del who
    with ctx.uow() as uow:
        return [ExperimentOut(**r) for r in ex.listing(uow)]


@router.post("/{name}/stop", responses=WRITES)
def stop(name: PathName, who: Planner, ctx: Ctx, idem: Idem) -> ExperimentOut:
    """Stop a running A/B test (its report stays)."""
    del who
    return idem.run({"name": name}, lambda uow: (200, ExperimentOut(  # type: ignore[return-value]
        **ex.stop(uow.conn, name))))


@router.get("/{name}/report")
def report(name: PathName, who: Viewer, ctx: Ctx) -> ExperimentReport:
    """Impressions, CTR, conversion and revenue per impression per variant, with the power."""
    with ctx.uow() as uow:
        return ExperimentReport(**ex.experiment_report(uow, who, name))
