"""The supplier portal: its own login, its own items only, ASNs with CSRF; no shop pages."""

from __future__ import annotations

import re

from web_fixture import PASSWORD, client, login

from stockpilot.ledger.catalogue import upsert_supplier_items, upsert_suppliers
from stockpilot.store.uow import reading, writing
from stockpilot.usecases.actor import SYSTEM
from stockpilot.usecases.vmi import list_asns
from stockpilot.usecases.vmi_auth import create_supplier_user


def _asns(engine, supplier=None):
    with reading(engine) as uow:
        return list_asns(uow, SYSTEM, supplier)


def _supplier(web, c, name="acme-ann", supplier="SUP"):
    page = c.get("/supplier/ui/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return c.post("/supplier/ui/login", data={"username": name, "password": PASSWORD,
                                             "csrf_token": token}, follow_redirects=False)


def test_supplier_sees_its_items_and_proposes(web):
    with web.engine.begin() as conn:
        upsert_suppliers(conn, [{"supplier": "OTHER"}])
        upsert_supplier_items(conn, [{"supplier": "OTHER", "sku": "B", "lead_time_days": 2}])
        # in the fixture SUP supplies A and B; give B to OTHER alone
        from sqlalchemy import delete

        from stockpilot.store import schema as t
        conn.execute(delete(t.supplier_items).where(t.supplier_items.c.supplier == "SUP",
                                                    t.supplier_items.c.sku == "B"))
    with writing(web.engine) as uow:
        create_supplier_user(uow, SYSTEM, "acme-ann", PASSWORD, "SUP")
    c = client(web)
    assert _supplier(web, c).status_code == 303
    page = c.get("/supplier/ui").text
    stock = re.search(r'<table id="stock">(.*?)</table>', page, re.S).group(1)
    plan = re.search(r'<table id="plan">(.*?)</table>', page, re.S).group(1)
    assert "<td>A</td>" in stock and "<td>B</td>" not in stock
    assert "A@W" in plan and "B@W" not in plan
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    bad = c.post("/supplier/ui/asn", data={"sku": "B", "location": "W", "quantity": 5,
                                          "csrf_token": csrf})
    assert bad.status_code == 404 and _asns(web.engine) == []
    forged = c.post("/supplier/ui/asn", data={"sku": "A", "location": "W", "quantity": 5,
                                             "csrf_token": "nope"})
    assert forged.status_code == 403 and _asns(web.engine) == []
    ok = c.post("/supplier/ui/asn", data={"sku": "A", "location": "W", "quantity": 5,
                                         "csrf_token": csrf}, follow_redirects=False)
    assert ok.status_code == 303
    assert [a["status"] for a in _asns(web.engine, "SUP")] == ["pending"]


def test_a_supplier_session_opens_no_shop_page_and_shop_users_cannot_sign_in_here(web):
    with writing(web.engine) as uow:
        create_supplier_user(uow, SYSTEM, "acme-ann", PASSWORD, "SUP")
    c = client(web)
    _supplier(web, c)
    assert c.get("/", follow_redirects=False).status_code == 303  # to the shop's login
    assert c.get("/ui/network", follow_redirects=False).status_code == 303
    shop = client(web)
    assert _supplier(web, shop, name="planner").status_code == 401
    login(shop, "planner")
    assert shop.get("/supplier/ui", follow_redirects=False).status_code == 303


def test_the_shop_decides_pending_asns_within_its_locations(web):
    from stockpilot.usecases.vmi import AsnLine, propose_asn
    from stockpilot.usecases.vmi_auth import SupplierScope

    sup = SupplierScope("SUP", "key:edi")
    with writing(web.engine) as uow:
        at_w = propose_asn(uow, sup, [AsnLine("A", "W", 5)]).asn_id
        at_s = propose_asn(uow, sup, [AsnLine("A", "S", 5)]).asn_id
    shop = client(web)
    login(shop, "shop")  # a planner limited to S
    page = shop.get("/ui/vmi").text
    pending = re.search(r'<table id="pending">(.*?)</table>', page, re.S).group(1)
    assert f"<td>{at_s}</td>" in pending and f"<td>{at_w}</td>" not in pending
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert shop.post(f"/ui/vmi/{at_w}/approve", data={"csrf_token": csrf}).status_code == 404
    assert shop.post(f"/ui/vmi/{at_s}/approve", data={"csrf_token": "x"}).status_code == 403
    ok = shop.post(f"/ui/vmi/{at_s}/approve", data={"csrf_token": csrf}, follow_redirects=False)
    assert ok.status_code == 303
    statuses = {a["id"]: (a["status"], a["decided_by"]) for a in _asns(web.engine)}
    assert statuses == {at_s: ("approved", "user:shop"), at_w: ("pending", None)}
    viewer = client(web)
    login(viewer, "viewer")
    assert "Approve" not in viewer.get("/ui/vmi").text
