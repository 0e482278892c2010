"""``stockpilot orders list|show|send|receive|cancel|audit`` and the suggestion edits.

Edits: ``lines``, ``set-qty``, ``drop``, ``snooze``, ``add``, ``restore``; the same use cases
as the API and the dashboard. The CLI acts for every location under the name given by
``--as`` (recorded in the audit trail). ``orders show ID`` lives in :mod:`plan_cmds`.
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import WorkspaceOpt, console, workspace
from stockpilot.errors import StockpilotError
from stockpilot.store.artifacts import ArtifactStore
from stockpilot.store.uow import reading, writing
from stockpilot.usecases import audit, orders, po_documents, suggestions
from stockpilot.usecases.actor import Actor
from stockpilot.usecases.paging import PageRequest

AsOpt = typer.Option("cli", "--as", help="Name recorded in the audit trail.")


def _me(name: str) -> Actor:
    return Actor("admin", None, name=name)


def list_orders(status: str = typer.Option(None, help="draft, sent, partly received, "
                                           "received or cancelled."),
                limit: int = typer.Option(50, min=1, max=500),
                ws: Path | None = WorkspaceOpt) -> None:
    """Purchase orders, newest first."""
    w = workspace(ws)
    with reading(w.engine) as uow:
        rows, total = orders.order_list(uow, _me("cli"), PageRequest(limit, 0, "-id"),
                                        label=status)
    table = Table("PO", "supplier", "status", "expected", "lines", "units", "received",
                  "value", "approved by", title=f"purchase orders ({total})")
    for r in rows:
        table.add_row(str(r["id"]), r["supplier"], r["label"], str(r["expected_at"] or "–"),
                      str(r["lines"]), f"{r['units']:,}", f"{r['received']:,}",
                      f"{r['value']:,.2f} {r['currency']}", r["approved_by"] or "")
    console.print(table)


def show_order(po_id: int, ws: Path | None = WorkspaceOpt) -> None:
    """One purchase order: terms, lines and history."""
    w = workspace(ws)
    with reading(w.engine) as uow:
        v = orders.order_view(uow, _me("cli"), po_id)
        trail, _ = audit.trail(uow, _me("cli"), PageRequest(50, 0), po_id=po_id)
    console.print(f"PO {v.id} · {v.supplier} · [bold]{v.label}[/] · expected "
                  f"{v.expected_at or '–'} · {v.total_value:,.2f} {v.currency} · approved by "
                  f"{v.approved_by or '–'}" + (f" · sent to {v.sent_to}" if v.sent_at else ""))
    table = Table("#", "SKU", "name", "location", "ordered", "received", "open", "unit cost")
    for ln in v.lines:
        table.add_row(str(ln.line_no), ln.sku, ln.name, ln.location, f"{ln.quantity:,}",
                      f"{ln.received:,}", f"{ln.open_units:,}",
                      "–" if ln.unit_cost is None else f"{ln.unit_cost:,.2f}")
    console.print(table)
    for a in trail:
        console.print(f"  {a['at']:%Y-%m-%d %H:%M} {a['actor']}: {a['action']}")


def send(po_id: int, email: bool = typer.Option(True, "--email/--manual",
                                                help="E-mail PDF + CSV, or only mark sent."),
         pdf: Path | None = typer.Option(None, help="Also write the PDF here."),
         csv: Path | None = typer.Option(None, help="Also write the CSV here."),
         name: str = AsOpt, ws: Path | None = WorkspaceOpt) -> None:
    """Send a purchase order to its supplier (draft → sent)."""
    w = workspace(ws)
    cfg = w.settings.purchasing
    with reading(w.engine) as uow:
        view = orders.order_view(uow, _me(name), po_id)
    for path, body in ((pdf, po_documents.to_pdf), (csv, po_documents.to_csv)):
        if path is not None:
            path.write_bytes(body(view))
            console.print(f"wrote {path}")
    if email:
        view = po_documents.email_order(w.engine, _me(name), po_id, cfg.smtp_host,
                                        cfg.smtp_port, cfg.email_from)
    else:
        with writing(w.engine) as uow:
            view = orders.mark_sent(uow, _me(name), po_id, "manual", "manual")
    console.print(f"PO {po_id}: {view.label} ({view.sent_to})")


def receive(po_id: int,
            line: list[str] = typer.Option(None, help="LINE=UNITS[:LOT:YYYY-MM-DD] "
                                           "(repeat; default: every open quantity)."),
            receipt: str = typer.Option(None, help="Delivery id (posting it twice is one "
                                        "receipt); default: a new one."),
            confirm_over: bool = typer.Option(False, "--confirm-over",
                                              help="Accept more than the tolerance."),
            name: str = AsOpt, ws: Path | None = WorkspaceOpt) -> None:
    """Receive against a purchase order: partly, over/under, lots with expiry."""
    units, lots = _receipt_lines(line or [])
    w = workspace(ws)
    with writing(w.engine) as uow:
        results, view = orders.receive(
            uow, _me(name), po_id, units or None, receipt_id=receipt or uuid.uuid4().hex[:16],
            lots=lots, confirm_over=confirm_over,
            tolerance=w.settings.purchasing.over_receipt_tolerance)
    console.print(f"PO {po_id}: {sum(r.status == 'applied' for r in results)} lines received "
                  f"· {view.label}")


def _receipt_lines(items: list[str]) -> tuple[dict[int, int], dict[int, tuple[str, date]]]:
    units: dict[int, int] = {}
    lots: dict[int, tuple[str, date]] = {}
    for item in items:
        try:
            no, _, rest = item.partition("=")
            qty, *lot = rest.split(":")
            units[int(no)] = int(qty)
            if lot:
                lots[int(no)] = (lot[0], date.fromisoformat(lot[1]))
        except (ValueError, IndexError):
            raise typer.BadParameter(f"--line {item!r}: expected LINE=UNITS or "
                                     f"LINE=UNITS:LOT:YYYY-MM-DD") from None
    return units, lots


def cancel(po_id: int, reason: str = typer.Option(None), name: str = AsOpt,
           ws: Path | None = WorkspaceOpt) -> None:
    """Cancel a purchase order (open units leave on order)."""
    w = workspace(ws)
    with writing(w.engine) as uow:
        view = orders.cancel(uow, _me(name), po_id, reason)
    console.print(f"PO {po_id}: {view.label}")


def show_audit(sku: str = typer.Option(None), location: str = typer.Option(None),
               po: int = typer.Option(None), limit: int = typer.Option(50, min=1, max=500),
               ws: Path | None = WorkspaceOpt) -> None:
    """Who changed which suggestion or order, and when."""
    w = workspace(ws)
    with reading(w.engine) as uow:
        rows, _ = audit.trail(uow, _me("cli"), PageRequest(limit, 0), sku=sku,
                              location=location, po_id=po)
    table = Table("when", "who", "what", "SKU", "location", "PO", "details")
    for a in rows:
        table.add_row(f"{a['at']:%Y-%m-%d %H:%M}", a["actor"], a["action"], a["sku"] or "",
                      a["location"] or "", str(a["po_id"] or ""),
                      "; ".join(f"{k}: {v}" for k, v in a["details"].items() if v is not None))
    console.print(table)


# --- suggestion edits ------------------------------------------------------------------------

def lines(supplier: str = typer.Option(None), ws: Path | None = WorkspaceOpt) -> None:
    """The latest plan's lines to order, as edited."""
    w = workspace(ws)
    plan = ArtifactStore(w.history).plan()
    with reading(w.engine) as uow:
        df = suggestions.effective_lines(uow, _me("cli"), plan)
    if supplier:
        df = df.filter(df["supplier"] == supplier)
    table = Table("supplier", "SKU", "location", "suggested", "order", "edit", "note", "PO",
                  title=f"lines to order ({df.height})")
    for r in df.sort("supplier", "sku", "location").iter_rows(named=True):
        table.add_row(r["supplier"], r["sku"], r["location"], str(r["suggested_qty"]),
                      str(r["order_qty"]), r["edit"] or "", r["note"] or "",
                      str(r["po_id"] or ""))
    console.print(table)


def _edit(ws: Path | None, change: object) -> None:
    w = workspace(ws)
    plan = ArtifactStore(w.history).plan()
    with writing(w.engine) as uow:
        change(uow, plan)  # type: ignore[operator]
    console.print("recorded")


def set_qty(sku: str, location: str, quantity: int, note: str = typer.Option(None),
            name: str = AsOpt, ws: Path | None = WorkspaceOpt) -> None:
    """Order another quantity of a suggested line."""
    _edit(ws, lambda uow, plan: suggestions.set_quantity(uow, _me(name), plan, sku, location,
                                                         quantity, note))


def drop(sku: str, location: str, note: str = typer.Option(None), name: str = AsOpt,
         ws: Path | None = WorkspaceOpt) -> None:
    """Leave a line out of this plan's orders."""
    _edit(ws, lambda uow, plan: suggestions.drop(uow, _me(name), plan, sku, location, note))


def snooze(sku: str, location: str, until: str = typer.Option(..., help="YYYY-MM-DD"),
           note: str = typer.Option(None), name: str = AsOpt,
           ws: Path | None = WorkspaceOpt) -> None:
    """Hide a line until a date, in every plan."""
    try:
        day = date.fromisoformat(until)
    except ValueError:
        raise StockpilotError(f"--until {until!r}: expected YYYY-MM-DD") from None
    _edit(ws, lambda uow, plan: suggestions.snooze(uow, _me(name), sku, location, day, note))


def add(sku: str, location: str, quantity: int, supplier: str = typer.Option(None),
        note: str = typer.Option(None), name: str = AsOpt,
        ws: Path | None = WorkspaceOpt) -> None:
    """Order a SKU once although the plan does not suggest it."""
    _edit(ws, lambda uow, plan: suggestions.order_once(uow, _me(name), plan, sku, location,
                                                       quantity, note, supplier))


def restore(sku: str, location: str, name: str = AsOpt, ws: Path | None = WorkspaceOpt) -> None:
    """Undo a line's edit and snooze."""
    _edit(ws, lambda uow, plan: suggestions.restore(uow, _me(name), plan, sku, location))


def register(app: typer.Typer) -> None:
    """Add the commands to ``stockpilot orders`` (created by :mod:`plan_cmds`)."""
    del app
    from stockpilot.cli.plan_cmds import orders_app

    for cmd, fn in (("list", list_orders), ("send", send),
                    ("receive", receive), ("cancel", cancel), ("audit", show_audit),
                    ("lines", lines), ("set-qty", set_qty), ("drop", drop),
                    ("snooze", snooze), ("add", add), ("restore", restore)):
        orders_app.command(cmd)(fn)
