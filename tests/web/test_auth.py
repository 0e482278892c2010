"""Login, logout, sessions, CSRF and roles, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from web_fixture import client, csrf_of, login

from stockpilot.store import schema_web as tw
from stockpilot.web.users import InvalidUser, authenticate, create_user


def test_pages_need_a_login(web):
    c = client(web)
    for path in ("/", "/ui/sku/A", "/ui/alerts", "/ui/orders", "/ui/simulation",
                 "/ui/recommendations"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_login_sets_a_hardened_cookie_and_logout_ends_the_session(web):
    c = client(web)
    assert login(c, "viewer", "wrong password").status_code == 401
    r = login(c, "viewer")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie.split("sp_login_csrf")[0]  # loopback: plain http works
    stolen = c.cookies.get("sp_session")
    page = c.get("/")
    assert page.status_code == 200 and "Stock value" in page.text
    assert c.post("/logout", data={"csrf_token": csrf_of(page.text)},
                  follow_redirects=False).status_code == 303
    assert c.get("/", follow_redirects=False).status_code == 303
    c.cookies.set("sp_session", stolen)  # a copy of the old cookie is dead too
    assert c.get("/", follow_redirects=False).status_code == 303


def test_session_cookie_is_secure_beyond_loopback(web):
    from fastapi.testclient import TestClient

    from stockpilot.config import Settings
    from stockpilot.web.app import configure

    configure(web.app, Settings(secret_key="a-real-secret-for-this-test"))
    c = TestClient(web.app, base_url="https://shop.example")
    r = login(c, "viewer")
    assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()


def test_default_secret_is_refused_beyond_loopback(web):
    from fastapi.testclient import TestClient

    r = TestClient(web.app, base_url="http://shop.example").get("/login")
    assert r.status_code == 503 and "STOCKPILOT_SECRET_KEY" in r.text


def test_forged_cookie_is_refused(web):
    c = client(web)
    login(c, "admin")
    good = c.cookies.get("sp_session")
    c.cookies.set("sp_session", good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"))
    assert c.get("/", follow_redirects=False).status_code == 303


def test_login_form_needs_its_csrf_token(web):
    c = client(web)
    c.get("/login")
    r = c.post("/login", data={"username": "viewer", "password": "correct horse battery",
                               "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403


def test_posts_without_a_valid_csrf_token_are_403(web):
    c = client(web)
    login(c, "planner")
    for data in ({"supplier": "SUP"}, {"supplier": "SUP", "csrf_token": "nope"}):
        assert c.post("/ui/orders/approve", data=data).status_code == 403
    alert_id = 1
    assert c.post(f"/ui/alerts/{alert_id}/ack").status_code == 403
    assert c.post("/logout", data={}).status_code == 403
    # the header htmx sends works as well as the hidden field
    token = csrf_of(c.get("/ui/alerts").text)
    r = c.post(f"/ui/alerts/{alert_id}/ack", headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert r.status_code == 200 and "acked" in r.text


def test_roles(web):
    c = client(web)
    login(c, "viewer")
    page = c.get("/ui/orders").text
    assert "Approve SUP" not in page
    r = c.post("/ui/orders/approve", data={"supplier": "SUP", "csrf_token": csrf_of(page)})
    assert r.status_code == 403 and "planner role" in r.text
    r = c.post("/ui/alerts/1/resolve", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 403


def test_next_only_redirects_within_the_site(web):
    c = client(web)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": "viewer", "password": "correct horse battery",
                               "csrf_token": token, "next": "//evil.example/x"},
               follow_redirects=False)
    assert r.headers["location"] == "/"


def test_users_are_stored_hashed_and_validated(engine):
    create_user(engine, "ann", "long enough pw", "planner", ["S"])
    with engine.connect() as conn:
        stored = conn.execute(tw.web_users.select()).one()
    assert stored.password_hash.startswith("$argon2id$") and "long enough" not in \
        stored.password_hash
    assert authenticate(engine, "ann", "long enough pw").locations == frozenset({"S"})
    assert authenticate(engine, "ann", "wrong") is None
    assert authenticate(engine, "nobody", "long enough pw") is None
    for bad in (("bob", "short", "viewer"), ("bob", "long enough pw", "king"),
                ("ann", "long enough pw", "viewer")):
        with pytest.raises(InvalidUser):
            create_user(engine, *bad)
