"""Alerts answered by an approval: re-check the SKU-locations of new purchase orders.

An approved order goes on order at once, so the position rules see it: a ``low_stock`` alert
whose inventory position is now above the reorder point is resolved; a
``projected_stockout`` alert the order arrives in time for is resolved, and one it arrives
too late for keeps its status with a message naming the order's arrival day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import Engine, select

from stockpilot.alerts import inputs
from stockpilot.alerts.service import position_findings, raise_alerts, set_status
from stockpilot.store import schema as t
from stockpilot.store import schema_events as te
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import reading, writing
from stockpilot.usecases.stock import data_as_of

RULES = ("low_stock", "projected_stockout")


# These three orchestrate several units of work on purpose: new alerts are committed, then
# notified (``raise_alerts``), then the ones no longer found are resolved; so they take the
# engine, as jobs do, not one unit of work.
def keys_of_orders(engine: Engine, po_ids: Sequence[int]) -> set[tuple[str, str]]:
    """The (SKU, location) pairs on the lines of purchase orders ``po_ids``."""
    ln = t.purchase_order_lines.c
    with reading(engine) as uow:
        return {(s, loc) for s, loc in uow.conn.execute(
            select(ln.sku, ln.location).where(ln.po_id.in_(list(po_ids))))}


def refresh_alerts(engine: Engine, history: HistoryStore, keys: Iterable[tuple[str, str]],
                   today: date | None = None, actor: str = "approval") -> dict[str, int]:
    """Re-run the position rules on ``keys``; resolve the open alerts no longer found.

    Returns ``{"raised": n, "resolved": m}`` (messages of alerts still found are refreshed).
    """
    wanted = set(keys)
    if not wanted:
        return {"raised": 0, "resolved": 0}
    cache = inputs.PlanCache(history)
    with reading(engine) as uow:
        today = today or data_as_of(uow, history)  # as the alert check judges "today"
        pos = inputs.positions(uow.conn, today, wanted)
        arrivals = inputs.arrivals(uow.conn, wanted)
    found = position_findings(pos, cache.get("plans"), cache.get("forecasts"), arrivals, today)
    raised = raise_alerts(engine, found)
    still = {(f.rule, f.sku, f.location) for f in found}
    a = te.alerts.c
    resolved = 0
    with writing(engine) as uow:
        rows = uow.conn.execute(select(a.id, a.rule, a.sku, a.location).where(
            a.rule.in_(RULES), a.status.in_(["open", "acked"]),
            a.sku.in_(sorted({s for s, _ in wanted})))).all()
        for r in rows:
            if (r.sku, r.location) in wanted and (r.rule, r.sku, r.location) not in still:
                set_status(uow.conn, r.id, "resolved", actor)
                resolved += 1
    return {"raised": len(raised), "resolved": resolved}


def refresh_after_approval(engine: Engine, history: HistoryStore, po_ids: Sequence[int]
                           ) -> dict[str, int]:
    """:func:`refresh_alerts` for the lines of the purchase orders just approved."""
    return refresh_alerts(engine, history, keys_of_orders(engine, po_ids))
