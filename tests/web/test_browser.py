"""The dashboard in a real browser (Debian's chromium through Playwright), laptop and phone."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from web_fixture import PASSWORD, make_workspace

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def server(sqlite_engine, tmp_path):
    import uvicorn

    ws = make_workspace(sqlite_engine, tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(ws.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def artefacts(tmp_path) -> Path:
    folder = Path(os.environ.get("STOCKPILOT_ARTIFACTS", tmp_path / "artefacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def _sign_in(page, base: str, user: str = "planner") -> None:
    page.goto(f"{base}/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_laptop_walkthrough(server, browser, artefacts):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, server)
    assert page.inner_text("#kpi-alerts") == "2"
    page.screenshot(path=str(artefacts / "overview.png"), full_page=True)

    page.goto(f"{server}/ui/sku/A?location=W")
    page.wait_for_function("window.stockpilotCharts && window.stockpilotCharts['fan-chart']")
    n_series = page.evaluate(
        "window.stockpilotCharts['fan-chart'].getOption().series.length")
    assert n_series == 1 + 3 * 2 + 1  # demand, three bands (base + width), median
    assert page.locator("#fan-chart canvas").count() >= 1
    marks = page.evaluate("window.stockpilotCharts['stock-chart'].getOption().series"
                          ".map(s => s.name)")
    assert marks == ["projected available", "reorder point", "order-up-to"]
    page.screenshot(path=str(artefacts / "sku.png"), full_page=True)

    page.goto(f"{server}/ui/orders")
    page.click("text=Approve SUP")  # htmx swaps the supplier's block in place
    page.wait_for_selector("section.supplier p.ok")
    assert "created" in page.inner_text("section.supplier p.ok")
    page.goto(f"{server}/ui/orders")
    assert page.locator("#orders tbody tr").first.inner_text().split()[1] == "SUP"
    page.screenshot(path=str(artefacts / "orders.png"), full_page=True)

    # approving re-evaluates the alerts (the order on its way resolves W's low stock and raises
    # a projected stock-out: it lands after the lead time), so ack whichever alert is open now
    page.goto(f"{server}/ui/alerts")
    row = page.locator("table.alerts tbody tr").first
    row_id = row.get_attribute("id")
    row.locator("button", has_text="Ack").click()  # htmx swaps the row in place
    # a locator wait, not wait_for_function: the page's CSP (script-src 'self') forbids eval
    page.locator(f"#{row_id}", has_text="acked").wait_for()
    page.goto(f"{server}/ui/simulation")
    page.wait_for_function("window.stockpilotCharts && window.stockpilotCharts['sim-chart']")
    page.screenshot(path=str(artefacts / "simulation.png"), full_page=True)
    assert errors == []


def test_phone_width(server, browser, artefacts):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                            device_scale_factor=2)
    _sign_in(page, server, "viewer")
    page.screenshot(path=str(artefacts / "overview-phone.png"), full_page=True)
    page.goto(f"{server}/ui/sku/A?location=W")
    page.wait_for_function("window.stockpilotCharts && window.stockpilotCharts['fan-chart']")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways at phone width ({width}px)"
    page.screenshot(path=str(artefacts / "sku-phone.png"), full_page=True)
