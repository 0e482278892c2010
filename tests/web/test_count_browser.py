"""Cycle counting on a phone (375 px) in a real browser: scan → recount → approve → the
position changed, and the SKU page shows the variance."""

from __future__ import annotations

import pytest
from test_browser import _sign_in, artefacts, browser, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_count_on_a_phone(server, browser, artefacts):  # noqa: F811 - fixtures
    page = browser.new_page(viewport={"width": 375, "height": 740}, is_mobile=True,
                            has_touch=True, device_scale_factor=2)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, server, "operator")  # operators count; operator ≥ planner approves too
    page.goto(f"{server}/ui/counts?location=W")
    page.click("#start")
    page.wait_for_url("**/ui/counts/*")
    assert page.evaluate("document.activeElement.id") == "code"  # ready for the scanner
    page.fill("#code", "A")
    page.fill("#quantity", "10")
    page.click("#scan")
    page.wait_for_selector("#result")
    assert "Recount A" in page.inner_text("#result")
    assert page.input_value("#code") == "A"  # the recount keeps the item
    assert page.evaluate("document.activeElement.id") == "quantity"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the scan page scrolls sideways at 375 px ({width}px)"
    page.screenshot(path=str(artefacts / "count-recount-phone.png"), full_page=True)
    page.fill("#quantity", "12")
    page.press("#quantity", "Enter")  # a scanner or the phone's keyboard submits
    page.wait_for_function("document.querySelector('#result') && "
                           "!document.querySelector('#result').innerText.includes('Recount')")
    assert "variance -4" in page.inner_text("#result")
    page.click("#approve")
    page.wait_for_selector("#approved")
    assert "1 line approved" in page.inner_text("#approved")
    page.goto(f"{server}/ui/sku/A?location=W")
    assert page.locator(".kpi b").first.inner_text() == "12"  # on hand was 16
    page.wait_for_selector("#count-history table.count-history")  # htmx loads the section
    assert "-4" in page.inner_text("#count-history")
    page.screenshot(path=str(artefacts / "count-sku-phone.png"), full_page=True)
    assert errors == []
