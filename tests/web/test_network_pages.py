"""/ui/network: sites on the map within the user's locations, routes of the plan's transfers."""

from __future__ import annotations

import json
import re

import polars as pl
from web_fixture import client, login

from stockpilot.usecases.network import upsert_sites


def _geo(web) -> None:
    with web.engine.begin() as conn:
        upsert_sites(conn, [{"location": "W", "latitude": 52.49, "longitude": -1.89},
                            {"location": "S", "latitude": 51.51, "longitude": -0.13}])
    plan = web.history.read("plans", "latest").with_columns(
        pl.lit(10).alias("inventory_position"))
    web.history.write("plans", "latest", plan)


def _map(page: str) -> dict:
    return json.loads(re.search(r'id="network-data">(.*?)</script>', page, re.S).group(1))


def test_map_lists_sites_and_routes_the_transfers(web):
    _geo(web)
    c = client(web)
    login(c, "planner")
    page = c.get("/ui/network").text
    assert [s["location"] for s in _map(page)["sites"]] == ["S", "W"]
    assert 'data-map="network"' in page and "network.js" in page
    page = c.get("/ui/network", params={"dc": "W"}).text
    routes = _map(page)["routes"]
    assert routes is not None, page
    assert [v["stop"] for r in routes["routes"] for v in r["visits"]] == ["S"]
    # A@S: order-up-to 80 − position 10 = 70 wanted; W has 40 − 24 sold = 16 of A available
    assert routes["routes"][0]["load_units"] == 16
    assert "Routes from W" in page and "one truck per destination" in page


def test_a_limited_user_sees_only_its_sites_and_no_other_dc(web):
    _geo(web)
    c = client(web)
    login(c, "shop")
    page = c.get("/ui/network").text
    assert [s["location"] for s in _map(page)["sites"]] == ["S"]
    assert c.get("/ui/network", params={"dc": "W"}).status_code == 404


def test_without_coordinates_the_page_says_what_to_do(web):
    c = client(web)
    login(c, "viewer")
    page = c.get("/ui/network").text
    assert "No location has coordinates yet" in page
