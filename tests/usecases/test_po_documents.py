"""A purchase order sent to its supplier: CSV, PDF, and an e-mail through a real SMTP server
(aiosmtpd on 127.0.0.1) carrying both, checked attachment by attachment."""

from __future__ import annotations

import csv
import io
import re
import zlib

import pytest
from test_editable_orders import PLANNER, _plan, shop  # noqa: F401 - fixture

from stockpilot.store.uow import reading, writing
from stockpilot.usecases import orders, po_documents, suggestions


def _pdf_text(pdf: bytes) -> str:
    """The text shown by a PDF's (deflated) content streams: enough to read fpdf2's output."""
    assert pdf.startswith(b"%PDF-")
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            body = zlib.decompress(raw).decode("latin-1")
        except zlib.error:
            continue
        out += re.findall(r"\((.*?)\) ?Tj", body)
    return " ".join(out)


def _order(engine) -> int:
    with writing(engine) as uow:
        return suggestions.approve(uow, PLANNER, _plan(), lines=[("A", "W"), ("B", "W")]
                                   ).created[0]


def test_email_carries_pdf_and_csv_and_marks_the_order_sent(shop, smtp):  # noqa: F811 - the imported fixture
    port, box = smtp
    po_id = _order(shop)
    view = po_documents.email_order(shop, PLANNER, po_id, "127.0.0.1", port, "buyer@shop.test")
    assert view.label == "sent" and view.sent_to == "orders@sup.example"
    [msg] = box
    assert msg["To"] == "orders@sup.example" and f"Purchase order {po_id}" in msg["Subject"]
    parts = {p.get_filename(): p.get_payload(decode=True) for p in msg.walk()
             if p.get_filename()}
    assert set(parts) == {f"PO-{po_id}-SUP.pdf", f"PO-{po_id}-SUP.csv"}
    rows = list(csv.DictReader(io.StringIO(parts[f"PO-{po_id}-SUP.csv"].decode())))
    assert [(r["sku"], r["quantity"], r["unit_cost"], r["currency"]) for r in rows] == [
        ("A", "30", "2.25", "EUR"), ("B", "10", "3.00", "EUR")]
    text = _pdf_text(parts[f"PO-{po_id}-SUP.pdf"])
    assert f"Purchase order {po_id}" in text and "Red mug" in text
    assert f"Total {30 * 2.25 + 10 * 3:,.2f} EUR" in text


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # no SQL of its own
def test_no_address_or_closed_order_sends_nothing(shop, smtp):  # noqa: F811 - the imported fixture
    port, box = smtp
    po_id = _order(shop)
    with writing(shop) as uow:
        orders.cancel(uow, PLANNER, po_id)
    with pytest.raises(orders.OrderClosed):
        po_documents.email_order(shop, PLANNER, po_id, "127.0.0.1", port, "b@shop.test")
    with shop.begin() as conn:
        conn.exec_driver_sql("UPDATE suppliers SET email = NULL")
    with writing(shop) as uow:
        other = suggestions.approve(uow, PLANNER, _plan(), lines=[("A", "S")]).created[0]
    with pytest.raises(po_documents.NoSupplierEmail, match="'email' column"):
        po_documents.email_order(shop, PLANNER, other, "127.0.0.1", port, "b@shop.test")
    with reading(shop) as uow:
        assert orders.order_view(uow, PLANNER, other).label == "draft"
    assert box == []
