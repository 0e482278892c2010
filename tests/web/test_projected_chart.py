"""The SKU page's projected stock: open POs arrive on their expected day, not day 0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stockpilot.ledger.purchasing import OrderLine, create_purchase_order
from stockpilot.store.uow import transact
from stockpilot.usecases.actor import Actor
from stockpilot.web.data import Sources, sku_page


def test_chart_projection_takes_the_po_on_its_day(web):
    today = datetime.now(UTC).date()
    transact(web.engine, create_purchase_order, "SUP", [OrderLine("A", "W", 100)],
                                    expected_at=today + timedelta(days=10))
    viewer = Actor("viewer", None, name="v", user_id=1)
    view = sku_page(Sources(web.engine, web.history), viewer, "A", "W")
    levels = [v for _, v in view["chart"]["projected"]]
    start = view["position"].available
    # 4/day out; the 100 units come in on day 11 (10 days after today), not on day 1
    assert levels[0] == start - 4
    assert levels[9] == start - 40
    assert levels[10] == start - 44 + 100
