"""Issue 14 in a real browser: edit a line, approve two lines, see the PO with cost and
expected date, receive it partly, see the SKU's position and on-order change."""

from __future__ import annotations

import re

import pytest
from test_browser import _sign_in, artefacts, browser, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_edit_approve_receive_walkthrough(server, browser, artefacts):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, server, "operator")
    page.goto(f"{server}/ui/orders")
    row = page.locator('tr[data-line="A|W"]')
    row.locator("input[name=quantity]").fill("72")
    row.locator("input[name=note]").fill("a full pallet")
    row.locator("button", has_text="Save").click()  # htmx swaps the row in place
    page.wait_for_selector('tr[data-line="A|W"].edited')
    assert "a full pallet" in page.inner_text('tr[data-line="A|W"]')
    assert page.url.endswith("/ui/orders")  # no page load

    page.check('tr[data-line="A|W"] input[name=line]')
    page.check('tr[data-line="A|S"] input[name=line]')
    page.click("text=Approve selected lines")
    link = page.wait_for_selector("section.supplier p.ok a")
    assert "created" in page.inner_text("section.supplier p.ok")
    # the approved lines turned into links to their order; nothing left to approve twice
    assert page.locator('tr[data-line="A|W"] input[name=line]').count() == 0
    assert page.locator("text=Approve selected lines").count() == 0
    page.screenshot(path=str(artefacts / "orders-approved.png"), full_page=True)

    link.click()
    page.wait_for_selector("#po-lines")
    po_url = page.url
    assert page.inner_text("#po-status") == "draft"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", page.inner_text("#po-expected"))
    assert page.inner_text("#po-total") == f"{(72 + 60) * 2.5:,.2f} EUR"
    assert page.inner_text("#po-approver").startswith("operator")
    line_no = page.evaluate("""[...document.querySelectorAll('#po-lines tbody tr')]
        .find(tr => tr.cells[3].innerText === 'W').cells[0].innerText""")
    page.fill(f"input[name=qty-{line_no}]", "30")
    page.click("text=Post receipt")
    page.wait_for_selector("#msg")
    assert page.inner_text("#po-status") == "partly received"
    page.screenshot(path=str(artefacts / "po-received.png"), full_page=True)

    page.goto(f"{server}/ui/sku/A?location=W")
    kpis = page.inner_text("section.kpis")
    assert re.search(r"On order\s+42\b", kpis), kpis  # 72 ordered, 30 received
    assert re.search(r"On hand\s+46\b", kpis), kpis  # 40 received − 24 sold + 30
    page.goto(po_url)
    assert "po.received" in page.inner_text("#audit")
    assert errors == []
