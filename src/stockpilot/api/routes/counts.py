"""Cycle counting: risk-ranked count lists, sessions, scans, approval and variance history.

A planner key lists and starts sessions and approves counts; an operator key scans. Sessions
outside a limited key's locations answer 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field, StrictInt

from stockpilot.api.deps import Ctx, Operator, Planner, Viewer
from stockpilot.api.idempotency import Idem
from stockpilot.api.problems import COMMON, WRITES
from stockpilot.api.schemas import Ident, In, Out, RowId, Text128
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import count_posting, counting

router = APIRouter(tags=["counts"], responses={**COMMON, **WRITES})
Counted = Annotated[StrictInt, Field(ge=0, le=1_000_000_000)]


class CountListLine(Out):
    """One SKU-location of a count list, with the parts of its risk."""

    rank: int
    sku: str
    location: str
    abc: str
    frequency_days: int
    on_hand: int
    unit_cost: float
    value: float
    velocity: float = Field(description="units sold per day over 28 days + 1/30")
    days_since_count: int | None
    quiet_days: int | None
    phantom_p: float = Field(description="P(no sale over the quiet days); < 0.01 is suspicious")
    anomaly: float
    risk: float = Field(description="value × velocity × days since count × anomaly")
    due: bool


@router.get("/counts/list")
def count_list(who: Planner, ctx: Ctx, location: str | None = None,
               all: bool = False,
               limit: Annotated[int | None, Query(ge=1, le=100_000)] = None
               ) -> list[CountListLine]:
    """SKU-locations due for counting (``all``: every one), riskiest first per location."""
    policy = counting.policy_of(ctx.settings.counting)
    with ctx.uow() as uow:
        rows = counting.list_due(uow, who, policy, location=location, due_only=not all,
                                 limit=limit)
    return [CountListLine(**r) for r in rows]


class CountSessionCreate(In):
    """Start counting at one location: its due lines (at most ``limit``), or ``skus``."""

    location: Ident
    limit: Annotated[int, Field(ge=1, le=100_000)] | None = None
    skus: Annotated[list[Ident], Field(min_length=1, max_length=10_000)] | None = None


class CountLinePublic(Out):
    """A session's line: the frozen book, the book at the count, the count and its state."""

    sku: str
    location: str
    rank: int
    abc: str
    status: Literal["pending", "recount", "counted", "posted"]
    frozen_on_hand: int
    book_on_hand: int | None
    moved_since_start: int | None = Field(description="movements recorded between the "
                                          "session's start and the count")
    first_counted: int | None
    counted: int | None
    variance: int | None
    attempts: int
    counted_by: str | None
    counted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    event_id: str | None


class CountSessionPublic(Out):
    """A count session and its lines."""

    id: int
    location: str
    status: Literal["open", "closed"]
    started_by: str
    started_at: datetime
    closed_at: datetime | None
    lines: list[CountLinePublic]


class CountSessionSummary(Out):
    """A count session with how many lines are in each state."""

    id: int
    location: str
    status: str
    started_by: str
    started_at: datetime
    closed_at: datetime | None
    lines: dict[str, int]


@router.get("/counts/sessions")
def list_sessions(who: Viewer, ctx: Ctx, location: str | None = None,
                  status: Literal["open", "closed"] | None = None) -> list[CountSessionSummary]:
    """Count sessions at the key's locations, newest first."""
    with ctx.uow() as uow:
        rows = counting.list_sessions(uow, who, location=location, status=status)
    return [CountSessionSummary(**r) for r in rows]


@router.post("/counts/sessions", status_code=201)
def start_session(body: CountSessionCreate, who: Planner, ctx: Ctx, idem: Idem
                  ) -> CountSessionPublic:
    """Open a session freezing the book of its lines (409 while one is open there)."""
    policy = counting.policy_of(ctx.settings.counting)

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        sid = counting.start_session(uow, who, body.location, policy, limit=body.limit,
                                     skus=body.skus)
        return 201, CountSessionPublic(**counting.get_session(uow, who, sid))

    return idem.run(body, effect)  # type: ignore[return-value]


@router.get("/counts/sessions/{session_id}")
def get_session(session_id: RowId, who: Viewer, ctx: Ctx) -> CountSessionPublic:
    """A session with its lines."""
    with ctx.uow() as uow:
        return CountSessionPublic(**counting.get_session(uow, who, session_id))


class CountScanIn(In):
    """A count of the item a barcode or SKU names: ``quantity`` units on the shelf."""

    code: Annotated[Text128, Field(min_length=1)]
    quantity: Counted


class CountScanPublic(Out):
    """What the scan found: the variance against the book, and whether to count again."""

    session_id: int
    sku: str
    location: str
    counted: int
    frozen_on_hand: int
    book_on_hand: int
    variance: int
    tolerance_units: float
    status: Literal["recount", "counted"]
    attempts: int
    recount: bool


@router.post("/counts/sessions/{session_id}/scans", status_code=201)
def scan(session_id: RowId, body: CountScanIn, who: Operator, ctx: Ctx, idem: Idem
         ) -> CountScanPublic:
    """Record a count; past the tolerance the line asks for a recount (``recount``: true)."""
    policy = counting.policy_of(ctx.settings.counting)

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        res = counting.scan(uow, who, session_id, body.code, body.quantity, policy)
        return 201, CountScanPublic(**vars(res), recount=res.recount)

    return idem.run(body, effect)  # type: ignore[return-value]


class CountApproveIn(In):
    """Approve the session's counted lines (or only ``skus``)."""

    skus: Annotated[list[Ident], Field(min_length=1, max_length=10_000)] | None = None


class CountPostedPublic(Out):
    """A line posted to the ledger (``event_id`` null: nothing to post)."""

    sku: str
    variance: int
    event_id: str | None


@router.post("/counts/sessions/{session_id}/approve")
def approve(session_id: RowId, body: CountApproveIn, who: Planner, idem: Idem
            ) -> list[CountPostedPublic]:
    """Post the counted variances as ledger movements (409 for a line not counted yet)."""

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        done = count_posting.approve(uow, who, session_id, skus=body.skus)
        return 200, [CountPostedPublic(**d) for d in done]

    return idem.run(body, effect)  # type: ignore[return-value]


class CountVariancePublic(Out):
    """One approved count of a SKU."""

    session_id: int
    location: str
    frozen_on_hand: int
    book_on_hand: int | None
    first_counted: int | None
    counted: int | None
    variance: int | None
    variance_value: float
    attempts: int
    counted_by: str | None
    counted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    event_id: str | None


@router.get("/counts/history/{sku}")
def history(sku: str, who: Viewer, ctx: Ctx, location: str | None = None
            ) -> list[CountVariancePublic]:
    """The SKU's approved counts at the key's locations, newest first."""
    with ctx.uow() as uow:
        rows = count_posting.variance_history(uow, who, sku, location=location)
    return [CountVariancePublic(**r) for r in rows]


class CountBarcodesIn(In):
    """Barcodes that name SKUs when scanned."""

    barcodes: Annotated[dict[Annotated[str, Field(min_length=1, max_length=64,
                                                  pattern=r"^[^\s\x00]+$")], Ident],
                        Field(min_length=1, max_length=10_000)]


@router.post("/counts/barcodes")
def add_barcodes(body: CountBarcodesIn, who: Planner, idem: Idem) -> dict[str, int]:
    """Register barcodes (an existing barcode is pointed at its new SKU)."""

    def effect(uow: UnitOfWork) -> tuple[int, Any]:
        return 200, {"registered": counting.add_barcodes(uow, who, body.barcodes)}

    return idem.run(body, effect)  # type: ignore[return-value]
