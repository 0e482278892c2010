"""Every page renders the fixture's data on SQLite and PostgreSQL, within the user's locations."""

from __future__ import annotations

import json
import re

from sqlalchemy import select
from web_fixture import client, csrf_of, login

from stockpilot.ledger.invariants import check_ledger
from stockpilot.store import schema as t


def _signed_in(web, user="planner"):
    c = client(web)
    assert login(c, user).status_code == 303
    return c


def test_overview_kpis(web):
    page = _signed_in(web).get("/").text
    assert "as of 2024-06-30" in page
    assert re.search(r"<span>planner <small>\(planner", page)  # who is signed in, by name
    value = re.search(r'id="kpi-stock-value">([^<]+)<', page).group(1)
    # A: (40 − 24) + 40 units at 2.5; B: 30 at 4
    assert value.replace(",", "") == "US$" + str(int((16 + 40) * 2.5 + 30 * 4))  # whole USD
    assert re.search(r'id="kpi-below-rop">(\d+)<', page).group(1) == "3"  # all ≤ 50
    assert re.search(r'id="kpi-alerts">(\d+)<', page).group(1) == "2"
    assert re.search(r'id="kpi-fill-rate">([\d.]+)%', page)
    assert page.count('<svg class="spark"') >= 4


def test_sku_page(web):
    page = _signed_in(web).get("/ui/sku/A", params={"location": "W"}).text
    assert "Red mug" in page and "P50 demand over lead time" in page and "Order 60" in page
    chart = json.loads(re.search(r'id="chart-data">(.*?)</script>', page, re.S).group(1))
    assert chart["uid"] == "A@W" and len(chart["history"]) == 90  # from the first day seen
    assert len(chart["fan"]["ds"]) == 28 and chart["fan"]["q0.025"][0] < chart["fan"]["q0.975"][0]
    assert chart["reorder_point"] == 50 and chart["order_up_to"] == 80
    assert chart["projected"][0][1] == 16 - chart["fan"]["q0.5"][0]
    assert page.count('<td data-label="kind">sale</td>') == 8 and "receipt" in page


def test_sku_page_shows_lots_and_escapes_names(web):
    page = _signed_in(web).get("/ui/sku/B").text
    assert "L1" in page and "2024-07-10" in page
    assert "Blue &lt;b&gt;bowl&lt;/b&gt;" in page and "<b>bowl</b>" not in page


def test_location_scope(web):
    c = _signed_in(web, "shop")  # a planner limited to S
    page = c.get("/ui/sku/A").text
    assert "?location=W" not in page and '"uid": "A@S"' in page
    assert c.get("/ui/sku/B").status_code == 404  # B is only at W
    orders = c.get("/ui/orders").text
    assert "A@S" in orders and "A@W" not in orders
    alerts = c.get("/ui/alerts").text
    assert "projected_stockout" in alerts and "low_stock" not in alerts
    assert c.post("/ui/alerts/1/ack", data={"csrf_token": csrf_of(alerts)}).status_code == 404


def test_approve_creates_a_purchase_order_in_the_ledger(web):
    c = _signed_in(web)
    page = c.get("/ui/orders").text
    assert "Approve SUP" in page
    r = c.post("/ui/orders/approve", data={"supplier": "SUP", "csrf_token": csrf_of(page)},
               follow_redirects=False)
    assert r.status_code == 303
    done = c.get(r.headers["location"]).text
    po_id = int(re.search(r"Purchase order #(\d+) created", done).group(1))
    assert f'id="po-{po_id}"' in done
    with web.engine.connect() as conn:
        lines = conn.execute(select(t.purchase_order_lines.c.sku, t.purchase_order_lines.c.location,
                                    t.purchase_order_lines.c.quantity)
                             .where(t.purchase_order_lines.c.po_id == po_id)).all()
        on_order = dict(conn.execute(select(t.stock.c.location, t.stock.c.on_order)
                                     .where(t.stock.c.sku == "A")).all())
        assert check_ledger(conn) == []
    assert sorted(lines) == [("A", "S", 60), ("A", "W", 60)]
    assert on_order == {"S": 60, "W": 60}


def test_alerts_ack_and_resolve(web):
    c = _signed_in(web)
    page = c.get("/ui/alerts").text
    assert page.index("projected_stockout") < page.index("low_stock")  # critical first
    token = csrf_of(page)
    assert c.post("/ui/alerts/1/ack", data={"csrf_token": token},
                  follow_redirects=False).status_code == 303
    c.post("/ui/alerts/2/resolve", data={"csrf_token": token})
    open_page = c.get("/ui/alerts").text
    assert "acked" in open_page and "projected_stockout" not in open_page
    assert "projected_stockout" in c.get("/ui/alerts", params={"status": "resolved"}).text


def test_simulation_and_search_and_recommendations(web):
    c = _signed_in(web, "viewer")
    sim = c.get("/ui/simulation").text
    assert 'data-chart="simulation"' in sim and "erp_min_max" in sim
    found = c.get("/ui/sku", params={"q": "mug"}).text
    assert "/ui/sku/A" in found
    assert c.get("/ui/sku", params={"q": "a"}, follow_redirects=False).status_code == 303
    rec = c.get("/ui/recommendations", params={"customer": "17850"}).text
    assert "no trained recommender" in rec


def test_pages_work_without_javascript_and_send_security_headers(web):
    r = _signed_in(web).get("/ui/orders")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    # approving is a plain form post: no JavaScript needed
    assert '<form id="approve-SUP" method="post" action="/ui/orders/approve"' in r.text
    static = client(web).get("/ui/static/echarts.min.js")
    assert static.status_code == 200 and len(static.content) > 500_000
