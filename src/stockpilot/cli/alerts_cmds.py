"""``stockpilot alerts …``: evaluate the rules, notify, list, acknowledge, resolve."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import select

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, workspace

app = typer.Typer(help="Alerts: low stock, projected stockouts, counts, expiring lots.",
                  no_args_is_help=True)


@app.command("check")
def check(webhook: str | None = typer.Option(None, help="Signed webhook URL."),
          secret: str = typer.Option("", envvar="STOCKPILOT_WEBHOOK_SECRET",
                                     help="HMAC secret for the webhook."),
          slack: str | None = typer.Option(None, help="Slack-compatible webhook URL."),
          smtp: str | None = typer.Option(None, help="SMTP host:port for e-mail."),
          to: list[str] = typer.Option(None, help="E-mail recipient (repeat)."),
          ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Run every rule now; store new alerts and send them to the given channels."""
    from stockpilot.alerts import notifiers as n
    from stockpilot.alerts.service import findings, raise_alerts

    w = workspace(ws, db)
    chans: list[object] = []
    if webhook:
        chans.append(n.Webhook(webhook, secret))
    if slack:
        chans.append(n.Slack(slack))
    if smtp and to:
        host, _, port = smtp.partition(":")
        chans.append(n.Email(host, int(port or 25), "stockpilot@localhost", tuple(to)))
    found = findings(w.engine, w.history)
    new = raise_alerts(w.engine, found, chans)
    console.print(f"{len(found)} conditions found, {len(new)} new alerts")


@app.command("list")
def list_(status: str = typer.Option("open", help="open | acked | resolved | all"),
          ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Show alerts."""
    from stockpilot.store import schema_events as te

    w = workspace(ws, db)
    q = select(te.alerts).order_by(te.alerts.c.id.desc()).limit(200)
    if status != "all":
        q = q.where(te.alerts.c.status == status)
    table = Table("id", "rule", "sku", "location", "severity", "status", "message")
    with w.engine.connect() as conn:
        for r in conn.execute(q):
            table.add_row(str(r.id), r.rule, r.sku, r.location, r.severity, r.status, r.message)
    console.print(table)


@app.command("ack")
def ack(alert_id: int, ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Acknowledge an alert."""
    from stockpilot.alerts.service import set_status

    set_status(workspace(ws, db).engine, alert_id, "acked")


@app.command("resolve")
def resolve(alert_id: int, ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Resolve an alert (it may be raised again after the cooldown)."""
    from stockpilot.alerts.service import set_status

    set_status(workspace(ws, db).engine, alert_id, "resolved")
