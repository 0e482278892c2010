"""Accounts cannot be abused (issue 17 item 6): sign-ins throttled per IP, sessions end on a
password change or when a user is disabled, on SQLite and PostgreSQL."""

from __future__ import annotations

from web_fixture import PASSWORD, client, login

from stockpilot.store.uow import reading, writing
from stockpilot.usecases import users
from stockpilot.usecases.actor import SYSTEM
from stockpilot.web.users import set_password


def test_failed_sign_ins_are_throttled_per_ip_even_with_the_right_password(web):
    c = client(web)
    for _ in range(10):  # the default burst of failures
        assert login(c, "viewer", "wrong password").status_code == 401
    r = login(c, "viewer", PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert "sp_session" not in c.cookies


def test_a_password_change_ends_every_session_of_the_user(web):
    c = client(web)
    assert login(c, "viewer").status_code == 303
    assert c.get("/", follow_redirects=False).status_code == 200
    set_password(web.engine, "viewer", "another long password")
    assert c.get("/", follow_redirects=False).status_code == 303  # back to the login page


def test_disable_and_revoke_sessions(web):
    a, b = client(web), client(web)
    assert login(a, "planner").status_code == 303
    with writing(web.engine) as uow:
        assert users.revoke_sessions(uow, SYSTEM, "planner") == 1
    assert a.get("/", follow_redirects=False).status_code == 303
    assert login(b, "planner").status_code == 303
    with writing(web.engine) as uow:
        assert users.disable_user(uow, SYSTEM, "planner") == 1
    assert b.get("/", follow_redirects=False).status_code == 303
    assert login(client(web), "planner").status_code == 401
    with reading(web.engine) as uow:
        listed = {u["username"]: u for u in users.list_users(uow, SYSTEM)}
    assert listed["planner"]["disabled_at"] is not None and listed["planner"]["sessions"] == 0
    assert listed["viewer"]["disabled_at"] is None and "password_hash" not in listed["viewer"]


def test_simulation_kpis_over_other_locations_are_not_shown_to_a_scoped_user(web):
    """Issue 17 item 5: /ui/simulation showed KPIs aggregated over every location."""
    from stockpilot.usecases import simulations
    from stockpilot.usecases.actor import Actor

    everyone, shop = client(web), client(web)
    login(everyone, "viewer")
    login(shop, "shop")  # a planner limited to S
    assert "erp_min_max" in everyone.get("/ui/simulation").text
    assert "erp_min_max" not in shop.get("/ui/simulation").text
    with writing(web.engine) as uow:  # a run over S alone is the shop's to see
        simulations.store(uow, Actor("planner", frozenset({"S"})), "S only", {},
                          [{"policy": "s_only_policy", "knob": 1.0, "fill_rate": 0.5,
                            "cycle_service_level": 0.4, "avg_on_hand_per_sku": 3.0,
                            "lost_units": 1.0, "orders_placed": 2.0}])
    assert "s_only_policy" in shop.get("/ui/simulation").text
