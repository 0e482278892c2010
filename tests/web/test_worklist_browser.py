"""The SKU worklist in a real browser: sign in, filter, sort, export CSV; readable at 375 px."""

from __future__ import annotations

import csv
import io

import pytest
from test_browser import _sign_in, artefacts, browser, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_filter_sort_and_export_the_sku_list(server, browser, artefacts):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, server)
    card = page.inner_text("#kpi-below-rop")
    page.click("#kpi-below-rop")  # a card opens the list behind it, with as many rows
    page.wait_for_url("**/ui/lists/skus?status=reorder")
    assert page.inner_text("#list-total") == card == "3"
    page.goto(f"{server}/ui/sku?q=")  # an empty search is the whole SKU list
    page.wait_for_url("**/ui/lists/skus")
    assert page.inner_text("#list-total") == "3"
    page.fill("form.filters input[name=q]", "mug")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**q=mug**")
    assert page.inner_text("#list-total") == "2"
    page.click("#worklist thead >> text=Available")  # sort by available, then descending
    page.wait_for_url("**sort=available**")
    page.click("#worklist thead >> text=Available")
    page.wait_for_url("**sort=-available**")
    cells = page.locator("#worklist tbody td.c-available").all_inner_texts()
    assert cells == ["40", "16"]
    with page.expect_download() as got:
        page.click("text=CSV")
    rows = list(csv.DictReader(io.StringIO(got.value.path().read_text())))
    assert [(r["sku"], r["location"], r["available"]) for r in rows] == [
        ("A", "S", "40"), ("A", "W", "16")]
    page.screenshot(path=str(artefacts / "worklist.png"), full_page=True)
    assert errors == []


def test_lists_read_at_375_px_without_sideways_scrolling(server, browser, artefacts):  # noqa: F811
    page = browser.new_page(viewport={"width": 375, "height": 812}, is_mobile=True,
                            device_scale_factor=2)
    _sign_in(page, server, "planner")
    for path, shot in (("/ui/lists/skus", "worklist-375.png"), ("/ui/alerts", "alerts-375.png"),
                       ("/ui/lists/suggestions", "suggestions-375.png"),
                       ("/ui/simulation", "simulation-375.png"), ("/", "overview-375.png")):
        page.goto(f"{server}{path}")
        width = page.evaluate("document.scrollingElement.scrollWidth")
        page.screenshot(path=str(artefacts / shot), full_page=True)
        assert width <= 375 + 1, f"{path} scrolls sideways at 375 px ({width}px)"
    page.goto(f"{server}/ui/lists/suggestions")
    reason = page.locator("td.c-reason").first.bounding_box()
    assert reason is not None and reason["width"] > 150  # the reason column is readable
