"""The orders page shows each supplier's stated and measured lead time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from web_fixture import client, login

from stockpilot.ledger.purchasing import OrderLine, create_purchase_order, receive_purchase_order
from stockpilot.store.uow import transact


def test_orders_page_has_the_lead_time_table(web):
    for n in range(5):
        po, _ = transact(web.engine, create_purchase_order, "SUP", [OrderLine("A", "W", 1)],
                                   reference=f"lt{n}")
        transact(web.engine, receive_purchase_order,
                 po, occurred_at=datetime.now(UTC) + timedelta(days=9))
    c = client(web)
    login(c, "viewer")
    page = c.get("/ui/orders").text
    row = page[page.index('id="lt-SUP"'):]
    row = row[:row.index("</tr>")]
    assert "<td>5</td>" in row and "<td>9.0</td>" in row and "learned, blended" in row
