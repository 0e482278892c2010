"""Dead letters as an actor sees them: the events that could not be applied, and why.

Each row carries the ``location`` and ``to_location`` its body names (None when absent).

A dead letter has no location column (it may not even be JSON), so the scope is read from
its body: an actor limited to some locations sees a dead letter whose event names only
locations it may see; an unparseable body belongs to no location and only an unscoped actor
(``locations`` None) sees it. The database pre-filters scoped reads by the quoted location
names (a LIKE on the body), the exact check is done here on the parsed JSON.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import or_, select

from stockpilot.store import schema_events as te
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, require
from stockpilot.usecases.paging import PageRequest, order_by, page_of

D = te.dead_letters.c
SORTABLE = {"id": D.id, "created_at": D.created_at, "source": D.source,
            "error_type": D.error_type}
#: Most rows a scoped read examines (newest first by the sort) before paging in Python.
SCOPED_SCAN_LIMIT = 50_000


def _where(body: str) -> dict[str, str | None]:
    """``location`` and ``to_location`` named by an event body (None each if absent/not JSON)."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    return {k: None if data.get(k) is None else str(data[k])
            for k in ("location", "to_location")}


def _visible(actor: Actor, row: dict[str, Any]) -> bool:
    locs = [loc for loc in (row["location"], row["to_location"]) if loc is not None]
    return bool(locs) and all(actor.sees(loc) for loc in locs)


def list_dead_letters(uow: UnitOfWork, actor: Actor, page: PageRequest, *,
                      source: str | None = None, error_type: str | None = None
                      ) -> tuple[list[dict[str, Any]], int]:
    """Dead letters the actor may see (operator and up), filtered: one page and the total."""
    require(actor, "operator")
    stmt = select(te.dead_letters)
    for col, value in ((D.source, source), (D.error_type, error_type)):
        if value is not None:
            stmt = stmt.where(col == value)
    if actor.locations is None:
        rows, total = page_of(uow.conn, stmt, page, SORTABLE)
        return [r | _where(r["body"]) for r in rows], total
    # scoped: only bodies naming an in-scope location can qualify (pre-filter in SQL)
    stmt = stmt.where(or_(*[D.body.contains(json.dumps(loc)) for loc in actor.scope() or []]))
    found = uow.conn.execute(stmt.order_by(*order_by(page.sort, SORTABLE))
                             .limit(SCOPED_SCAN_LIMIT))
    kept = [row for r in found if _visible(actor, row := dict(r._mapping) | _where(r.body))]
    return kept[page.offset:page.offset + page.limit], len(kept)
