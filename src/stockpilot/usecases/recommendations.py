"""Recommendations, read side: the purchase history a recommender learns from, stock-aware.

Training and ranking are :mod:`stockpilot.recommend`; this module reads what they need from
the ledger, once, for the CLI, the demo job, the API and the dashboard.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from sqlalchemy import bindparam, func, select

from stockpilot.store import schema as t
from stockpilot.store.artifacts import ArtifactStore, NoPlanYet
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, check_locations
from stockpilot.usecases.stock import positions


def order_lines(uow: UnitOfWork, actor: Actor, since: datetime | None = None) -> pl.DataFrame:
    """Imported order lines: ``customer_id, sku, quantity, at`` (naive UTC), ``order_id``.

    ``since`` keeps only lines at or after it (for an incremental refresh). Typed columns, so
    an empty workspace gives an empty frame of the right layout.
    """
    del actor  # order lines are the shop's purchase history, not located stock: all see them
    c = t.order_lines.c
    q = select(c.customer_id, c.sku, c.quantity, c.occurred_at, c.order_id)
    if since is not None:
        q = q.where(c.occurred_at >= since.replace(tzinfo=since.tzinfo or UTC))
    rows = uow.conn.execute(q).all()
    df = pl.DataFrame(rows, schema={"customer_id": pl.Utf8, "sku": pl.Utf8, "quantity": pl.Int64,
                                    "at": pl.Datetime("us", "UTC"), "order_id": pl.Utf8},
                      orient="row")
    return df.with_columns(pl.col("at").dt.replace_time_zone(None))


def available_at(uow: UnitOfWork, actor: Actor, location: str | None = None) -> dict[str, int]:
    """Units available per SKU at ``location`` (or each SKU's last visible location)."""
    return {p.sku: p.available for p in positions(uow, actor, location=location)}


_STOCK = select(t.stock.c.sku, (t.stock.c.on_hand - t.stock.c.reserved).label("free")).where(
    t.stock.c.location == bindparam("loc"),
    t.stock.c.sku.in_(bindparam("items", expanding=True)))
_EXPIRED = (select(t.lots.c.sku, func.sum(t.lots.c.on_hand - t.lots.c.reserved))
            .where(t.lots.c.location == bindparam("loc"), t.lots.c.expiry <= bindparam("today"))
            .group_by(t.lots.c.sku))


def available_items(uow: UnitOfWork, actor: Actor, location: str, items: list[str]
                    ) -> dict[str, int]:
    """Available units of ``items`` at ``location`` now, in two indexed queries.

    As the GLOSSARY has it: on hand − reserved, less the unreserved units of expired lots.
    A location outside the actor's scope is :class:`NotFound`.
    """
    check_locations(actor, [location], what="location")
    free = {r[0]: r[1] for r in uow.conn.execute(_STOCK, {"loc": location, "items": items})}
    today = datetime.now(UTC).date()
    for sku, expired in uow.conn.execute(_EXPIRED, {"loc": location, "today": today}):
        if sku in free:
            free[sku] -= int(expired or 0)
    return free


def overstock_at(artifacts: ArtifactStore, actor: Actor, location: str,
                 available: dict[str, int]) -> dict[str, float]:
    """0–1 per SKU: the share of its available units above the plan's order-up-to level.

    What ``boost`` re-ranking adds to the scores (:mod:`stockpilot.recommend.rerank`): 100
    available against an order-up-to of 40 is 0.6 — stock the plan says is not needed before
    the next order arrives. Items the latest plan does not cover, and every item when there
    is no plan yet, are 0.
    """
    check_locations(actor, [location], what="location")
    try:
        plan = artifacts.plan().frame
    except NoPlanYet:
        return {}
    rows = plan.filter(pl.col("location") == location).select("sku", "order_up_to")
    out: dict[str, float] = {}
    for sku, level in rows.iter_rows():
        have = available.get(sku, 0)
        if have > 0 and level is not None and have > level:
            out[sku] = (have - int(level)) / have
    return out
