"""``stockpilot vmi …``: supplier keys and users, agreed bounds, ASNs to decide, audit trail."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import WorkspaceOpt, console, workspace

app = typer.Typer(help="Vendor-managed inventory: supplier access, bounds, ASNs, audit.",
                  no_args_is_help=True)


@app.command("key")
def key(supplier: str, name: str = typer.Option("api", help="A name for the key."),
        ws: Path | None = WorkspaceOpt) -> None:
    """Create an API key for a supplier (shown once; it only opens /supplier/…)."""
    from stockpilot.store.uow import writing
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.vmi_auth import create_supplier_key

    with writing(workspace(ws).engine) as uow:
        secret = create_supplier_key(uow, SYSTEM, supplier, name)
    console.print(secret, highlight=False)


@app.command("user")
def user(username: str, supplier: str = typer.Option(..., help="The supplier it acts for."),
         password: str = typer.Option(..., prompt=True, hide_input=True,
                                      confirmation_prompt=True),
         ws: Path | None = WorkspaceOpt) -> None:
    """Create a supplier dashboard user (signs in at /supplier/login)."""
    from stockpilot.store.uow import writing
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.vmi_auth import create_supplier_user

    with writing(workspace(ws).engine) as uow:
        create_supplier_user(uow, SYSTEM, username, password, supplier)
    console.print(f"supplier user {username} created for {supplier}")


@app.command("bounds")
def bounds(supplier: str, sku: str, location: str,
           min_units: int = typer.Option(..., "--min", min=0),
           max_units: int = typer.Option(..., "--max", min=0),
           ws: Path | None = WorkspaceOpt) -> None:
    """Agree the bounds within which a supplier's ASNs are approved without the shop."""
    from stockpilot.store.uow import writing
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.vmi import set_bounds

    with writing(workspace(ws).engine) as uow:
        set_bounds(uow, SYSTEM, supplier, sku, location, min_units, max_units, by="cli")
    console.print(f"{supplier} {sku}@{location}: auto-approve within [{min_units}, "
                  f"{max_units}]")


@app.command("asns")
def asns(status: str | None = typer.Option(None, help="pending, approved or rejected."),
         supplier: str | None = typer.Option(None), ws: Path | None = WorkspaceOpt) -> None:
    """List ASNs with their lines."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.vmi import list_asns

    table = Table("id", "supplier", "status", "lines", "by", "po")
    with reading(workspace(ws).engine) as uow:
        found = list_asns(uow, SYSTEM, supplier, status)
    for a in found:
        lines = ", ".join(f"{ln['sku']}@{ln['location']} {ln['quantity']}" for ln in a["lines"])
        table.add_row(str(a["id"]), a["supplier"], a["status"] + (" (auto)" if
                      a["auto_approved"] else ""), lines, a["created_by"], str(a["po_id"] or ""))
    console.print(table)


@app.command("approve")
def approve(asn_id: int, ws: Path | None = WorkspaceOpt) -> None:
    """Approve a pending ASN into a purchase order."""
    from stockpilot.store.uow import writing
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.vmi import decide_asn

    with writing(workspace(ws).engine) as uow:
        r = decide_asn(uow, SYSTEM, asn_id, True, by="cli")
    console.print(f"ASN {asn_id} approved: purchase order {r.po_id}")


@app.command("reject")
def reject(asn_id: int, ws: Path | None = WorkspaceOpt) -> None:
    """Reject a pending ASN."""
    from stockpilot.store.uow import writing
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.vmi import decide_asn

    with writing(workspace(ws).engine) as uow:
        decide_asn(uow, SYSTEM, asn_id, False, by="cli")
    console.print(f"ASN {asn_id} rejected")


@app.command("audit")
def audit(supplier: str | None = typer.Option(None), ws: Path | None = WorkspaceOpt) -> None:
    """The VMI audit trail."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.vmi import audit_trail

    with reading(workspace(ws).engine) as uow:
        trail = audit_trail(uow, SYSTEM, supplier)
    for r in trail:
        console.print(f"{r['at']:%Y-%m-%d %H:%M:%S} {r['actor']} {r['action']} "
                      f"{r['supplier']} {r['asn_id'] or ''} {r['detail']}", highlight=False)
