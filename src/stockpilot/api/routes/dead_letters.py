"""Dead letters: the events that could not be applied (from the API, the stream, imports)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter

from stockpilot.api.deps import Ctx, Operator, Page, Paged, page_request, sort_query
from stockpilot.api.problems import COMMON
from stockpilot.api.schemas import Ident32, Out, Text64
from stockpilot.usecases import dead_letters

router = APIRouter(tags=["stock"], responses=COMMON)


class DeadLetterPublic(Out):
    """One event that could not be applied, its body as received and the reason."""

    id: int
    source: str
    message_id: str
    body: str
    error_type: str
    reason: str
    location: str | None
    to_location: str | None
    created_at: datetime


DeadSort = Annotated[str, sort_query(list(dead_letters.SORTABLE), "-id")]


@router.get("/dead-letters")
def list_dead_letters(who: Operator, ctx: Ctx, page: Paged, source: Ident32 | None = None,
                      error_type: Text64 | None = None, sort: DeadSort = "-id"
                      ) -> Page[DeadLetterPublic]:
    """Dead letters, newest first (operator; filter by source and error type).

    A key limited to some locations sees the dead letters of events at those locations only
    (a body that is not a JSON event belongs to no location: unlimited keys only).
    """
    with ctx.uow() as uow:
        rows, total = dead_letters.list_dead_letters(uow, who, page_request(page, sort),
                                                     source=source, error_type=error_type)
    return Page(items=[DeadLetterPublic(**r) for r in rows], limit=page.limit,
                offset=page.offset, total=total)
