"""The counting pages without a browser: roles, scope, CSRF, the SKU page's history section."""

from __future__ import annotations

import re

from web_fixture import client, csrf_of, login


def _session_id(location: str) -> int:
    return int(re.search(r"/ui/counts/(\d+)$", location).group(1))


def test_start_scan_recount_approve_and_history(web):
    c = client(web)
    login(c, "planner")
    page = c.get("/ui/counts?location=W")
    assert page.status_code == 200 and 'id="due"' in page.text and ">A<" in page.text
    token = csrf_of(page.text)
    r = c.post("/ui/counts/start", data={"location": "W", "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    sid = _session_id(r.headers["location"])
    # a planner may not scan (operators count; planners approve)
    r = c.post(f"/ui/counts/{sid}/scan", data={"code": "A", "quantity": 1, "csrf_token": token})
    assert r.status_code == 403
    op = client(web)
    login(op, "operator")
    op_token = csrf_of(op.get(f"/ui/counts/{sid}").text)
    assert op.post(f"/ui/counts/{sid}/scan", data={"code": "A", "quantity": 1},
                   follow_redirects=False).status_code == 403  # no CSRF token
    page = op.post(f"/ui/counts/{sid}/scan", data={"code": "A", "quantity": 10,
                                                    "csrf_token": op_token})
    assert "Recount A" in page.text and 'value="A"' in page.text
    page = op.post(f"/ui/counts/{sid}/scan", data={"code": "A", "quantity": 12,
                                                    "csrf_token": op_token})
    assert "A: counted 12, book 16, variance -4 (recount; first count 10)" in page.text
    page = c.post(f"/ui/counts/{sid}/approve", data={"csrf_token": token})
    assert "1 line approved" in page.text
    hist = c.get("/ui/counts/history/A", headers={"HX-Request": "true"}).text
    assert "<html" not in hist and "-4" in hist and "-10.00" in hist  # 4 × 2.5
    assert 'hx-get="/ui/counts/history/A"' in c.get("/ui/sku/A?location=W").text


def test_scope_and_errors(web):
    c = client(web)
    login(c, "planner")
    token = csrf_of(c.get("/ui/counts").text)
    sid = _session_id(c.post("/ui/counts/start", data={"location": "W", "csrf_token": token},
                             follow_redirects=False).headers["location"])
    again = c.post("/ui/counts/start", data={"location": "W", "csrf_token": token})
    assert "already open" in again.text
    shop = client(web)
    login(shop, "shop")  # a planner limited to location S
    assert shop.get(f"/ui/counts/{sid}").status_code == 404
    assert f"/ui/counts/{sid}" not in shop.get("/ui/counts").text
    viewer = client(web)
    login(viewer, "viewer")
    page = viewer.get(f"/ui/counts/{sid}")
    assert page.status_code == 200 and 'id="scan"' not in page.text and 'id="due"' not in \
        viewer.get("/ui/counts").text
    op = client(web)
    login(op, "operator")
    tok = csrf_of(op.get(f"/ui/counts/{sid}").text)
    page = op.post(f"/ui/counts/{sid}/scan", data={"code": "NOPE", "quantity": 1,
                                                    "csrf_token": tok})
    assert "Unknown" in page.text or "NOPE" in page.text
