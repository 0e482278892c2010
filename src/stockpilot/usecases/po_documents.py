"""A purchase order as the supplier receives it: CSV, PDF (fpdf2) and an e-mail carrying both.

Rendering is pure (an :class:`~stockpilot.usecases.orders.OrderView` in, bytes out); sending
goes through :mod:`smtplib` of the standard library to the supplier's address from the
supplier import.
"""

from __future__ import annotations

import csv
import io
import smtplib
from email.message import EmailMessage

from fpdf import FPDF
from sqlalchemy import Engine

from stockpilot.errors import StockpilotError
from stockpilot.store.uow import reading, writing
from stockpilot.usecases import orders
from stockpilot.usecases.actor import Actor, require
from stockpilot.usecases.orders import OrderView

CSV_COLUMNS = ("po", "line_no", "sku", "name", "location", "quantity", "received",
               "unit_cost", "value", "currency", "expected_at")


class NoSupplierEmail(StockpilotError):
    """The supplier has no e-mail address (add it to the supplier import)."""

    status = 409
    title = "No supplier e-mail"


def filename(view: OrderView, ext: str) -> str:
    """``PO-<id>-<supplier>.<ext>``."""
    return f"PO-{view.id}-{view.supplier}.{ext}"


def to_csv(view: OrderView) -> bytes:
    """One row per line, with the order's currency and expected date on every row."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for ln in view.lines:
        w.writerow([view.id, ln.line_no, ln.sku, ln.name, ln.location, ln.quantity,
                    ln.received, "" if ln.unit_cost is None else f"{ln.unit_cost:.2f}",
                    "" if ln.value is None else f"{ln.value:.2f}", view.currency,
                    view.expected_at.isoformat() if view.expected_at else ""])
    return out.getvalue().encode()


def _latin(text: str) -> str:
    # fpdf2's built-in Helvetica covers Latin-1 only; shipping a TTF for the rest is not
    # worth it for SKU names, so other characters print as "?"
    return text.encode("latin-1", "replace").decode("latin-1")


def to_pdf(view: OrderView) -> bytes:
    """A one-table PDF: header (supplier, dates, approver), the lines, the total."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin(f"Purchase order {view.id}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for label, value in (("Supplier", f"{view.supplier_name or view.supplier} "
                          f"({view.supplier})"),
                         ("Reference", view.reference or ""),
                         ("Ordered", view.created_at.strftime("%Y-%m-%d")),
                         ("Expected", view.expected_at.isoformat() if view.expected_at
                          else "-"),
                         ("Approved by", view.approved_by or "-"),
                         ("Currency", view.currency)):
        pdf.cell(0, 6, _latin(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    with pdf.table(col_widths=(10, 30, 55, 20, 18, 25, 30),
                   text_align=("RIGHT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")
                   ) as table:
        table.row(["#", "SKU", "Name", "Location", "Qty", "Unit cost", "Value"])
        for ln in view.lines:
            table.row([str(ln.line_no), _latin(ln.sku), _latin(ln.name), _latin(ln.location),
                       f"{ln.quantity:,}", _money(ln.unit_cost), _money(ln.value)])
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 8, f"Total {view.total_value:,.2f} {view.currency}", align="R")
    return bytes(pdf.output())


def _money(v: float | None) -> str:
    return "-" if v is None else f"{v:,.2f}"


def message(view: OrderView, sender: str) -> EmailMessage:
    """The e-mail to the supplier: a short text, the PDF and the CSV attached."""
    if not view.supplier_email:
        raise NoSupplierEmail(f"supplier {view.supplier!r} has no e-mail address: add an "
                              f"'email' column to the supplier import")
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, view.supplier_email
    msg["Subject"] = f"Purchase order {view.id} ({view.reference or view.supplier})"
    expected = view.expected_at.isoformat() if view.expected_at else "as agreed"
    msg.set_content(f"Dear {view.supplier_name or view.supplier},\n\nplease find attached "
                    f"purchase order {view.id}: {len(view.lines)} lines, total "
                    f"{view.total_value:,.2f} {view.currency}, expected {expected}.\n")
    msg.add_attachment(to_pdf(view), maintype="application", subtype="pdf",
                       filename=filename(view, "pdf"))
    msg.add_attachment(to_csv(view), maintype="text", subtype="csv",
                       filename=filename(view, "csv"))
    return msg


def send(view: OrderView, host: str, port: int, sender: str) -> str:
    """Mail the order to the supplier over SMTP; returns the address it went to."""
    if not host:
        raise StockpilotError("no SMTP server: set [purchasing] smtp_host in stockpilot.toml")
    msg = message(view, sender)
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        smtp.send_message(msg)
    return str(msg["To"])


def email_order(engine: Engine, actor: Actor, po_id: int, host: str, port: int,
                sender: str) -> OrderView:
    """Mail an open order to its supplier, then record it as sent (draft → sent).

    The mail goes out between two short transactions, not inside one: an SMTP server that
    takes its time must not hold SQLite's write lock.
    """
    require(actor, "planner")
    with reading(engine) as uow:
        view = orders.order_view(uow, actor, po_id)
    if view.status in ("received", "cancelled"):
        raise orders.OrderClosed(f"purchase order {po_id} is {view.label}")
    sent_to = send(view, host, port, sender)
    with writing(engine) as uow:
        return orders.mark_sent(uow, actor, po_id, sent_to, "email")
