"""Regression (issue 12, bug 1): dashboard approval is scoped and idempotent by plan lines.

Before the fix, a location-limited user's approval used the unscoped reference
``SUG-<supplier>-<date>``: the second location approving the same supplier that day got the
first location's order back and nothing was created for it, silently.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from web_fixture import PASSWORD, client, csrf_of, login

from stockpilot.ledger.invariants import check_ledger
from stockpilot.store import schema as t
from stockpilot.web.users import create_user


def _approve(web, user: str) -> int:
    c = client(web)
    assert login(c, user).status_code == 303
    page = c.get("/ui/orders").text
    r = c.post("/ui/orders/approve", data={"supplier": "SUP", "csrf_token": csrf_of(page)},
               follow_redirects=False)
    assert r.status_code == 303
    done = c.get(r.headers["location"]).text
    return int(re.search(r"Purchase order #(\d+)", done).group(1))


def _lines(engine, po_id: int) -> list[tuple[str, str, int]]:
    ln = t.purchase_order_lines.c
    with engine.connect() as conn:
        return sorted(conn.execute(select(ln.sku, ln.location, ln.quantity)
                                   .where(ln.po_id == po_id)).all())


def test_two_locations_approving_one_supplier_each_get_their_order(web):
    create_user(web.engine, "depot", PASSWORD, "planner", ["W"])
    at_s = _approve(web, "shop")
    at_w = _approve(web, "depot")
    assert at_s != at_w
    assert _lines(web.engine, at_s) == [("A", "S", 60)]
    assert _lines(web.engine, at_w) == [("A", "W", 60)]
    with web.engine.connect() as conn:
        on_order = dict(conn.execute(select(t.stock.c.location, t.stock.c.on_order)
                                     .where(t.stock.c.sku == "A")).all())
        assert check_ledger(conn) == []
    assert on_order == {"S": 60, "W": 60}


def test_a_replayed_dashboard_approval_creates_nothing(web):
    first = _approve(web, "shop")
    again = _approve(web, "shop")
    assert again == first
    with web.engine.connect() as conn:
        assert conn.execute(select(t.purchase_orders.c.id)).all() == [(first,)]
