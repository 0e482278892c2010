"""``stockpilot alerts …``: evaluate the rules, notify, list, acknowledge, resolve."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, workspace
from stockpilot.store.uow import reading, writing
from stockpilot.usecases import alerts
from stockpilot.usecases.actor import SYSTEM, Actor
from stockpilot.usecases.paging import PageRequest

app = typer.Typer(help="Alerts: low stock, projected stockouts, counts, expiring lots, demand "
                       "anomalies, phantom stock.",
                  no_args_is_help=True)


@app.command("check")
def check(webhook: str | None = typer.Option(None, help="Signed webhook URL."),
          secret: str = typer.Option("", envvar="STOCKPILOT_WEBHOOK_SECRET",
                                     help="HMAC secret for the webhook."),
          slack: str | None = typer.Option(None, help="Slack-compatible webhook URL."),
          smtp: str | None = typer.Option(None, help="SMTP host:port for e-mail."),
          to: list[str] = typer.Option(None, help="E-mail recipient (repeat)."),
          ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Run every rule now; store new alerts and send them per [alerts.routes].

    Channels come from [alerts.channels] in stockpilot.toml; the flags add or replace them.
    """
    from datetime import timedelta

    from stockpilot.alerts import notifiers as n
    from stockpilot.alerts.inputs import PlanCache
    from stockpilot.alerts.routing import Router
    from stockpilot.alerts.service import findings, raise_alerts, update_planning_gauges

    w = workspace(ws, db)
    extra: dict[str, object] = {}
    if webhook:
        extra["webhook"] = n.Webhook(webhook, secret)
    if slack:
        extra["slack"] = n.Slack(slack)
    if smtp and to:
        host, _, port = smtp.partition(":")
        extra["email"] = n.Email(host, int(port or 25), "stockpilot@localhost", tuple(to))
    from stockpilot.store.uow import reading
    from stockpilot.usecases.stock import data_as_of

    cfg = w.settings.alerts
    with reading(w.engine) as uow:  # a workspace of old imported data is judged at its end
        today = data_as_of(uow, w.history)
    found = findings(w.engine, w.history, today=today)
    new = raise_alerts(w.engine, found, Router.from_settings(cfg, extra),
                       cooldown=timedelta(hours=cfg.cooldown_hours))
    kpis = update_planning_gauges(w.engine, PlanCache(w.history))
    console.print(f"{len(found)} conditions found, {len(new)} new alerts; "
                  + ", ".join(f"{k} {v}" for k, v in kpis.items()))


@app.command("history")
def history(alert_id: int, ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Show every transition of one alert (raised, acked, resolved, …)."""
    from stockpilot.alerts.service import history_of

    table = Table("at", "action", "status", "actor", "message")
    for h in history_of(workspace(ws, db).engine, alert_id):
        table.add_row(str(h["at"]), h["action"], h["status"], h["actor"] or "",
                      h["message"] or "")
    console.print(table)


@app.command("list")
def list_(status: str = typer.Option("open", help="open | acked | resolved | all"),
          ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Show alerts."""
    w = workspace(ws, db)
    table = Table("id", "rule", "sku", "location", "severity", "status", "message")
    with reading(w.engine) as uow:
        rows, _ = alerts.list_alerts(uow, SYSTEM, PageRequest(200, 0, "-id"),
                                     status=None if status == "all" else status)
    for r in rows:
        table.add_row(str(r["id"]), r["rule"], r["sku"], r["location"], r["severity"],
                      r["status"], r["message"])
    console.print(table)


def _operator() -> str:
    """Who runs the CLI (the OS user), recorded in the alert's history without ``--by``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name (a container without passwd entry)
        return "cli"


@app.command("ack")
def ack(alert_id: int, by: str | None = typer.Option(None, help="Who acknowledges."),
        ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Acknowledge an alert."""
    with writing(workspace(ws, db).engine) as uow:
        alerts.set_status(uow, Actor("admin", name=by or _operator()), alert_id, "acked")


@app.command("resolve")
def resolve(alert_id: int, by: str | None = typer.Option(None, help="Who resolves."),
            ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Resolve an alert (it may be raised again after the cooldown)."""
    with writing(workspace(ws, db).engine) as uow:
        alerts.set_status(uow, Actor("admin", name=by or _operator()), alert_id, "resolved")
