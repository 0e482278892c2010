"""Shopper feedback on recommendations: record it once, count it by model and position.

Events (impression, click, add_to_cart, purchase) arrive in batches from the shop's front end;
each carries the client's event id, so a retried batch records nothing twice (``INSERT … ON
CONFLICT DO NOTHING`` on the primary key, in one transaction per batch: all or nothing). The
caller's locations scope every write and read. Clicks and add-to-carts become implicit
interactions for the next training (:func:`implicit_lines`).

:func:`record` works on the caller's open connection (``transact`` or the API's idempotency
record); the reads take an open :class:`~stockpilot.store.uow.UnitOfWork`, and :func:`rates`
the :class:`~stockpilot.usecases.actor.Actor`, whose locations' feedback it counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import Connection, case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from stockpilot.errors import NotFound, StockpilotError
from stockpilot.store.schema_recommend import rec_feedback
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor

KINDS = ("impression", "click", "add_to_cart", "purchase")
MAX_BATCH = 1000


class InvalidFeedback(StockpilotError):
    """A feedback event or query that breaks a rule (kind, position, value, batch size)."""

    status = 422
    title = "Invalid feedback"


@dataclass(frozen=True)
class Feedback:
    """One shopper event on a recommended item (``position`` is 1-based in the served list)."""

    event_id: str
    kind: str
    sku: str
    location: str
    occurred_at: datetime
    customer_id: str | None = None
    model: str | None = None
    experiment: str | None = None
    variant: str | None = None
    position: int | None = None
    value: Decimal | None = None


@dataclass(frozen=True)
class Recorded:
    """What one batch did."""

    recorded: int
    duplicates: int


def record(conn: Connection, events: Sequence[Feedback],
           scope: frozenset[str] | None = None) -> Recorded:
    """Store a batch (idempotent by event id); every location must be in ``scope`` (None: all).

    Raises :class:`InvalidFeedback` (naming the event) for an unknown kind, a position below 1
    or a negative value, :class:`NotFound` for a location outside the scope; nothing is
    written then (the caller's transaction rolls back).
    """
    if len(events) > MAX_BATCH:
        raise InvalidFeedback(f"a batch holds at most {MAX_BATCH} events, not {len(events)}")
    for e in events:
        _check(e, scope)
    now = datetime.now(UTC)
    rows = [{**e.__dict__, "recorded_at": now} for e in _unique(events)]
    if not rows:
        return Recorded(0, 0)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(rec_feedback).on_conflict_do_nothing(index_elements=["event_id"])
    # RETURNING names the rows really inserted (rowcount is not reliable for every driver).
    recorded = len(conn.execute(stmt.returning(rec_feedback.c.event_id), rows).all())
    return Recorded(recorded, len(events) - recorded)


def _unique(events: Iterable[Feedback]) -> list[Feedback]:
    """The first of each event id within a batch (a batch may repeat one)."""
    seen: dict[str, Feedback] = {}
    for e in events:
        seen.setdefault(e.event_id, e)
    return list(seen.values())


def _check(e: Feedback, scope: frozenset[str] | None) -> None:
    if e.kind not in KINDS:
        raise InvalidFeedback(f"event {e.event_id}: kind must be one of {', '.join(KINDS)}, "
                           f"not {e.kind!r}")
    if e.position is not None and e.position < 1:
        raise InvalidFeedback(f"event {e.event_id}: position must be 1 or more")
    if e.value is not None and e.value < 0:
        raise InvalidFeedback(f"event {e.event_id}: value must not be negative")
    if scope is not None and e.location not in scope:
        raise NotFound(f"no such location {e.location!r}")


def rates(uow: UnitOfWork, actor: Actor, by: Sequence[str] = ("model", "position")
          ) -> list[dict[str, Any]]:
    """Impressions, clicks, add-to-carts, CTR and conversion grouped by ``by`` columns.

    Only feedback recorded at the actor's locations counts.

    ``by`` is any of ``model``, ``position``, ``experiment``, ``variant``, ``location``.
    CTR = clicks / impressions; conversion = add-to-carts / impressions.
    """
    allowed = {"model", "position", "experiment", "variant", "location"}
    bad = [b for b in by if b not in allowed]
    if bad:
        raise InvalidFeedback(f"cannot group feedback by {bad[0]!r}; use "
                              f"{', '.join(sorted(allowed))}")
    c = rec_feedback.c
    keys = [c[b] for b in by]
    q = select(*keys, *(func.sum(case((c.kind == k, 1), else_=0)).label(k) for k in KINDS),
               func.coalesce(func.sum(case((c.kind == "purchase", c.value), else_=0)), 0)
               .label("revenue")).group_by(*keys).order_by(*keys)
    if actor.locations is not None:
        q = q.where(c.location.in_(actor.scope() or []))
    rows = uow.conn.execute(q).mappings().all()
    out = []
    for r in rows:
        n = int(r["impression"] or 0)
        out.append({**{b: r[b] for b in by}, "impressions": n, "clicks": int(r["click"] or 0),
                    "add_to_carts": int(r["add_to_cart"] or 0),
                    "purchases": int(r["purchase"] or 0), "revenue": float(r["revenue"] or 0),
                    "ctr": (r["click"] or 0) / n if n else None,
                    "conversion": (r["add_to_cart"] or 0) / n if n else None})
    return out


def implicit_lines(uow: UnitOfWork, before: datetime, weights: dict[str, float] | None = None
                   ) -> pl.DataFrame:
    """Clicks and add-to-carts before ``before`` as order lines for the next training.

    Each event becomes a line ``customer_id, sku, quantity, at, order_id`` with quantity
    ``weights[kind]`` (default: add-to-cart 1, click 0 — a click alone is a weak signal) and
    order id ``feedback:<event_id>``; events without a customer are left out.
    """
    w = weights or {"add_to_cart": 1.0, "click": 0.0}
    kinds = [k for k, v in w.items() if v > 0]
    c = rec_feedback.c
    q = select(c.customer_id, c.sku, c.kind, c.occurred_at, c.event_id).where(
        c.kind.in_(kinds), c.customer_id.is_not(None), c.occurred_at < before)
    rows = uow.conn.execute(q).all()
    return pl.DataFrame(
        [(r[0], r[1], w[r[2]], r[3].replace(tzinfo=None), f"feedback:{r[4]}") for r in rows],
        schema={"customer_id": pl.Utf8, "sku": pl.Utf8, "quantity": pl.Float64,
                "at": pl.Datetime("us"), "order_id": pl.Utf8}, orient="row")


def fold(lines: pl.DataFrame, implicit: pl.DataFrame) -> pl.DataFrame:
    """Order lines plus implicit feedback lines, in the recommender's column layout."""
    cols = ["customer_id", "sku", "quantity", "at", "order_id"]
    base = lines.select(cols).with_columns(pl.col("quantity").cast(pl.Float64),
                                           pl.col("at").cast(pl.Datetime("us")))
    return pl.concat([base, implicit.select(cols)], how="vertical")
