"""Stock movements: post ledger events as an actor, list transfers it may see.

Posting goes through :func:`stockpilot.ledger.service.apply_events` on the caller's unit of work
(idempotent by event id); every location an event touches must be in the actor's scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, or_, select

from stockpilot.domain.commands import LedgerCommand
from stockpilot.domain.movements import MovementKind
from stockpilot.events.consumer import BatchResult, Message, apply_messages
from stockpilot.ledger.service import EventResult, _error_from, apply_events
from stockpilot.store import schema as t
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, check_locations, require
from stockpilot.usecases.paging import PageRequest, page_of

M = t.movements.c
OUT_K, IN_K = MovementKind.TRANSFER_OUT.value, MovementKind.TRANSFER_IN.value
_from = func.min(case((M.kind == OUT_K, M.location)))
_to = func.min(case((M.kind == IN_K, M.location)))
TRANSFER_SORT = {"occurred_at": func.min(M.occurred_at), "event_id": M.event_id}


def _locations(cmd: LedgerCommand) -> list[str | None]:
    return [getattr(cmd, "location", None), getattr(cmd, "to_location", None)]


def post(uow: UnitOfWork, actor: Actor, commands: Sequence[LedgerCommand],
         role: str = "operator") -> list[EventResult]:
    """Apply ledger commands; one result per command (``applied``/``duplicate``/``rejected``)."""
    require(actor, role)
    for cmd in commands:
        check_locations(actor, _locations(cmd), what="location")
    return apply_events(uow.conn, list(commands))


def post_one(uow: UnitOfWork, actor: Actor, command: LedgerCommand,
             role: str = "operator") -> EventResult:
    """Apply one command; a rejection raises its typed error (e.g. ``InsufficientStock``)."""
    (result,) = post(uow, actor, [command], role)
    if not result.ok:
        raise _error_from(result)
    return result


def list_transfers(uow: UnitOfWork, actor: Actor, page: PageRequest, *,
                   sku: str | None = None, location: str | None = None
                   ) -> tuple[list[dict[str, Any]], int]:
    """Transfers whose two locations the actor may both see: one page and the total."""
    stmt = (select(M.event_id, func.min(M.sku).label("sku"), _from.label("from_location"),
                   _to.label("to_location"),
                   func.sum(case((M.kind == IN_K, M.on_hand_delta), else_=0)).label("quantity"),
                   func.min(M.occurred_at).label("occurred_at"))
            .where(M.kind.in_([OUT_K, IN_K])).group_by(M.event_id)
            .having(_from.is_not(None), _to.is_not(None)))
    if actor.locations is not None:
        stmt = stmt.where(M.location.in_(actor.scope() or []))
    if sku is not None:
        stmt = stmt.where(M.sku == sku)
    if location is not None:
        stmt = stmt.having(or_(_from == location, _to == location))
    return page_of(uow.conn, stmt, page, TRANSFER_SORT)


def post_messages(uow: UnitOfWork, actor: Actor, source: str, messages: list[Message]
                  ) -> BatchResult:
    """Apply wire-format messages (bad ones dead-lettered) in the caller's transaction.

    The caller keeps out messages at locations outside the actor's scope (it lists them).
    """
    require(actor, "operator")
    return apply_messages(uow.conn, source, messages)
