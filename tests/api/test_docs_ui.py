"""/docs and /redoc from vendored files (offline), and the API-key security scheme."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.api.auth import create_key
from stockpilot.config import Settings
from stockpilot.store.history import HistoryStore

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def app_and_key(sqlite_engine, tmp_path):
    app = create_app(sqlite_engine, HistoryStore(tmp_path / "h"), tmp_path,
                     Settings(rate_limit_per_second=0))
    return app, create_key(sqlite_engine, "docs", "viewer")


def test_docs_pages_load_only_local_assets(app_and_key):
    client = TestClient(app_and_key[0])
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        urls = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', html)
        urls += re.findall(r"url: ?['\"]([^'\"]+)['\"]", html)
        assert urls, page
        for url in urls:
            assert not urlparse(url).netloc, (page, url)  # nothing from another host
            if url.startswith("/api-docs-assets/"):
                r = client.get(url)
                assert r.status_code == 200 and len(r.content) > 100, url


def test_openapi_declares_the_key_schemes_on_every_keyed_route(app_and_key):
    spec = TestClient(app_and_key[0]).get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {**schemes["ApiKey"], "type": "apiKey", "in": "header",
                                 "name": "X-API-Key"}
    assert schemes["Bearer"]["scheme"] == "bearer"
    ops = [op for path, item in spec["paths"].items() if not path.startswith("/supplier/")
           for op in item.values()]
    assert ops and all({"ApiKey": []} in op["security"] for op in ops)


@pytest.fixture
def served(app_and_key):
    import uvicorn

    app, key = app_and_key
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", key
    srv.should_exit = True
    thread.join(10)


@pytest.mark.browser
@pytest.mark.slow  # a real browser rendering the whole API: ~6 s idle, ~16 s on a busy box
def test_swagger_ui_works_offline_and_authorize_sends_the_key(served):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    base, key = served
    outside: list[str] = []

    def only_local(route):  # no network: anything not from this server fails
        if route.request.url.startswith(base):
            return route.continue_()
        if not (route.request.resource_type == "image" and "/redoc" in page.url):
            outside.append(route.request.url)  # (ReDoc's footer logo is an image URL: shown
        return route.abort()                   # blank offline, nothing else is fetched)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox"])
        page = browser.new_page()
        page.route("**/*", only_local)
        page.goto(f"{base}/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/stock/{sku}" in [x.strip().replace("\u200b", "") for x in paths]
        # Authorize with the key, then "Try it out" on GET /health: the key is sent
        page.click("button.authorize")
        page.locator(".auth-container input").first.fill(key)
        page.locator(".auth-container button.authorize").first.click()
        page.click("button.btn-done")
        page.locator("#operations-system-health_health_get .opblock-summary").click()
        page.click("#operations-system-health_health_get button.try-out__btn")
        page.click("#operations-system-health_health_get button.execute")
        status = page.locator("#operations-system-health_health_get "
                              ".live-responses-table tbody .response-col_status").first
        status.wait_for(timeout=10_000)
        assert status.inner_text().strip() == "200"
        page.goto(f"{base}/redoc")
        page.wait_for_function("document.body.innerText.includes('Stock Of')",
                               timeout=20_000)  # the operation's summary in ReDoc's menu
        browser.close()
    assert outside == []
