"""The network map in a real browser: sites and a route drawn by ECharts, no page errors."""

from __future__ import annotations

import polars as pl
import pytest
from test_browser import _sign_in, artefacts, browser, server  # noqa: F401 (fixtures)

from stockpilot.store.history import HistoryStore
from stockpilot.usecases.network import upsert_sites

pytestmark = pytest.mark.browser


def test_map_draws_sites_and_routes(server, browser, artefacts, sqlite_engine, tmp_path):  # noqa: F811
    with sqlite_engine.begin() as conn:
        upsert_sites(conn, [{"location": "W", "latitude": 52.49, "longitude": -1.89},
                            {"location": "S", "latitude": 51.51, "longitude": -0.13}])
    history = HistoryStore(tmp_path / "history")
    history.write("plans", "latest", history.read("plans", "latest").with_columns(
        pl.lit(10).alias("inventory_position")))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, server)
    page.goto(f"{server}/ui/network?dc=W")
    page.wait_for_function("window.stockpilotCharts && window.stockpilotCharts['network-map']")
    names = page.evaluate("window.stockpilotCharts['network-map'].getOption().series"
                          ".map(s => s.name)")
    assert "vehicle 1" in names and any(n in names for n in ("warehouse", "store"))
    assert page.locator("#network-map canvas").count() >= 1
    page.screenshot(path=str(artefacts / "network.png"), full_page=True)
    assert errors == []
