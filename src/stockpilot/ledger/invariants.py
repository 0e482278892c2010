"""One invariant checker, used by tests, benchmarks and ``stockpilot stock check`` alike.

Checks, over the whole database (TigerBeetle's habit: verify the books, not the code path):
  * every stock row's on_hand and reserved equal the replay (sum) of its movements;
  * lot-tracked rows equal the sums of their lots, and lots equal their movements;
  * available ≥ 0 where backorders are not allowed; reserved ≥ 0;
  * on_order equals the open quantity of open purchase-order lines;
  * every applied event has movements and exactly one outbox row (the outbox is complete).
Event ids are unique by the primary key of ``ledger_events``.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from stockpilot.store import schema as t


def check_ledger(conn: Connection) -> list[str]:
    """Every broken invariant as a readable line; an empty list means the books are sound."""
    return (_stock_vs_movements(conn) + _lots(conn) + _bounds(conn) + _on_order(conn)
            + _events_complete(conn))


def _stock_vs_movements(conn: Connection) -> list[str]:
    m = t.movements.c
    replay = {(r.sku, r.location): (int(r.h), int(r.r)) for r in conn.execute(
        select(m.sku, m.location, func.sum(m.on_hand_delta).label("h"),
               func.sum(m.reserved_delta).label("r")).group_by(m.sku, m.location))}
    problems = []
    s = t.stock.c
    for r in conn.execute(select(s.sku, s.location, s.on_hand, s.reserved)):
        want = replay.pop((r.sku, r.location), (0, 0))
        if (r.on_hand, r.reserved) != want:
            problems.append(f"{r.sku}@{r.location}: stock {r.on_hand}/{r.reserved} but movements "
                            f"replay to {want[0]}/{want[1]}")
    problems += [f"{k[0]}@{k[1]}: movements without a stock row" for k in replay]
    return problems


def _lots(conn: Connection) -> list[str]:
    c, m, s = t.lots.c, t.movements.c, t.stock.c
    sums = {(r.sku, r.location): (int(r.h), int(r.r)) for r in conn.execute(
        select(c.sku, c.location, func.sum(c.on_hand).label("h"),
               func.sum(c.reserved).label("r")).group_by(c.sku, c.location))}
    tracked = select(t.skus.c.sku).where(t.skus.c.lot_tracked.is_(True))
    problems = [f"{r.sku}@{r.location}: lots sum to {sums.get((r.sku, r.location), (0, 0))}, "
                f"stock says {r.on_hand}/{r.reserved}"
                for r in conn.execute(select(s.sku, s.location, s.on_hand, s.reserved)
                                      .where(s.sku.in_(tracked)))
                if sums.get((r.sku, r.location), (0, 0)) != (r.on_hand, r.reserved)]
    replay = {(r.sku, r.location, r.lot_code): (int(r.h), int(r.r)) for r in conn.execute(
        select(m.sku, m.location, m.lot_code, func.sum(m.on_hand_delta).label("h"),
               func.sum(m.reserved_delta).label("r"))
        .where(m.lot_code.is_not(None)).group_by(m.sku, m.location, m.lot_code))}
    for r in conn.execute(select(c.sku, c.location, c.lot_code, c.on_hand, c.reserved)):
        if replay.get((r.sku, r.location, r.lot_code), (0, 0)) != (r.on_hand, r.reserved):
            problems.append(f"{r.sku}@{r.location} lot {r.lot_code}: {r.on_hand}/{r.reserved} "
                            "differs from its movements")
    return problems


def _bounds(conn: Connection) -> list[str]:
    s = t.stock.c
    bad = conn.execute(select(s.sku, s.location, s.on_hand, s.reserved).where(
        (s.reserved < 0) | (~s.allows_backorders & ((s.on_hand < s.reserved) | (s.on_hand < 0)))
    ))
    return [f"{r.sku}@{r.location}: available {r.on_hand - r.reserved} below zero" for r in bad]


def _on_order(conn: Connection) -> list[str]:
    ln, po, s = t.purchase_order_lines.c, t.purchase_orders.c, t.stock.c
    open_qty = {(r.sku, r.location): int(r.q) for r in conn.execute(
        select(ln.sku, ln.location,
               func.sum(func.max(ln.quantity - ln.received, 0)
                        if conn.dialect.name == "sqlite"
                        else func.greatest(ln.quantity - ln.received, 0)).label("q"))
        .join(t.purchase_orders, po.id == ln.po_id)
        .where(po.status.in_(["open", "partial"])).group_by(ln.sku, ln.location))}
    return [f"{r.sku}@{r.location}: on_order {r.on_order}, open PO lines say "
            f"{open_qty.get((r.sku, r.location), 0)}"
            for r in conn.execute(select(s.sku, s.location, s.on_order))
            if r.on_order != open_qty.get((r.sku, r.location), 0)]


def _events_complete(conn: Connection) -> list[str]:
    e, m, o = t.ledger_events.c, t.movements.c, t.outbox.c
    n_events = conn.execute(select(func.count()).select_from(t.ledger_events)).scalar_one()
    with_moves = conn.execute(select(func.count(func.distinct(m.event_id)))).scalar_one()
    n_outbox = conn.execute(select(func.count()).select_from(t.outbox)
                            .where(o.topic.like("ledger.%"))).scalar_one()
    problems = []
    if with_moves != n_events:
        problems.append(f"{n_events} events recorded but {with_moves} have movements")
    if n_outbox != n_events:
        problems.append(f"{n_events} events recorded but {n_outbox} ledger outbox rows")
    del e
    return problems
