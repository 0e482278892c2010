"""``stockpilot report``: write, mail, digest alerts, list deliveries.

The report is HTML, PDF or Excel (:func:`stockpilot.reports.build.write_report`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, workspace
from stockpilot.errors import ConfigError
from stockpilot.usecases.actor import SYSTEM

report_app = typer.Typer(
    help="Write the workspace report (no sub-command), or mail it, send the alert digest, "
         "list deliveries.", invoke_without_command=True)


def _default_out(w: Any, fmt: str, locations: frozenset[str] | None = None) -> Path:
    """Where `GET /reports` serves the report: ``<workspace>/report[/locations/A+B]``.

    That is, to every caller, or to the callers limited to exactly those locations.
    """
    from stockpilot.reports.build import scope_dir

    return (Path(w.history.root).parent / "report" / scope_dir(locations)
            / f"report.{fmt}")


@report_app.callback()
def report(ctx: typer.Context,
           fmt: str | None = typer.Option(None, "--format", help="html, pdf or xlsx "
                                          "(default: the --out suffix, else html)."),
           out: Path | None = typer.Option(None, help="File to write (default: "
                                           "<workspace>/report/report.<format>)."),
           location: list[str] = typer.Option(None, help="Only these locations (repeat)."),
           ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Write the report (KPIs and trend, stock, flow, stockouts, waste, accuracy, orders).

    Sections: KPIs and their trend, stock value by class, stock flow, projected stockouts,
    excess and slow movers, expiring lots, forecast accuracy, count discrepancies, suggestions.
    """
    if ctx.invoked_subcommand is not None:
        return
    import time

    from stockpilot.reports.build import write_report
    from stockpilot.usecases.actor import Actor

    w = workspace(ws, db)
    actor = Actor("admin", frozenset(location), name="cli") if location else SYSTEM
    target = out or _default_out(w, fmt or "html", actor.locations)
    start = time.perf_counter()
    path = write_report(w.engine, w.history, target, fmt=fmt, actor=actor)
    console.print(f"report written to {path} ({path.stat().st_size:,} bytes, "
                  f"{time.perf_counter() - start:.1f} s)")


def _email(w: Any, to: list[str] | None, smtp: str | None) -> Any:
    from stockpilot.alerts import notifiers as n

    ch = w.settings.alerts.channels
    host, _, port = (smtp or "").partition(":")
    recipients = tuple(to or ch.email_to)
    if not (host or ch.smtp_host) or not recipients:
        raise ConfigError("no mail settings: set [alerts.channels] smtp_host and email_to in "
                          "stockpilot.toml, or pass --smtp HOST:PORT and --to")
    return n.Email(host or ch.smtp_host, int(port or ch.smtp_port), ch.email_from, recipients)


@report_app.command("email")
def email(fmt: str = typer.Option("pdf", "--format", help="html, pdf or xlsx."),
          to: list[str] = typer.Option(None, help="Recipient (repeat; default: "
                                       "[alerts.channels] email_to)."),
          smtp: str | None = typer.Option(None, help="SMTP HOST:PORT (default: "
                                          "[alerts.channels] smtp_host, smtp_port)."),
          ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Write the report and mail it as an attachment (the delivery is recorded)."""
    from stockpilot.reports.build import write_report
    from stockpilot.store.uow import writing
    from stockpilot.usecases import deliveries

    w = workspace(ws, db)
    path = write_report(w.engine, w.history, _default_out(w, fmt), fmt=fmt)
    files = [path] + (sorted(path.parent.glob(f"{path.stem}-*.png")) if fmt == "html" else [])
    with writing(w.engine) as uow:
        d = deliveries.mail_report(uow, SYSTEM, _email(w, to, smtp), files,
                                   f"[stockpilot] report {path.name}",
                                   "The stockpilot report is attached.\n")
    _say(d)


@report_app.command("digest")
def digest(hours: float = typer.Option(24.0, help="The period: alerts raised in the last "
                                       "HOURS."),
           to: list[str] = typer.Option(None, help="Recipient (repeat)."),
           smtp: str | None = typer.Option(None, help="SMTP HOST:PORT."),
           ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Send one digest of the period's alerts to the [alerts] digest channels (or --smtp)."""
    from stockpilot.alerts.routing import Router
    from stockpilot.store.uow import writing
    from stockpilot.usecases import deliveries

    w = workspace(ws, db)
    targets = ([_email(w, to, smtp)] if smtp or to
               else Router.from_settings(w.settings.alerts).digest_channels())
    if not targets:
        raise ConfigError("no digest channel: set [alerts] digest = [\"email\"] in "
                          "stockpilot.toml, or pass --smtp HOST:PORT and --to")
    until = datetime.now(UTC)
    with writing(w.engine) as uow:
        done = deliveries.send_digest(uow, SYSTEM, targets, until - timedelta(hours=hours),
                                      until)
    if not done:
        console.print("no alerts in the period: nothing sent")
    for d in done:
        _say(d)


def _say(d: Any) -> None:
    if d.status == "sent":
        console.print(f"sent by {d.channel} ({d.items} item(s), {d.attempts} attempt(s))")
    else:
        console.print(f"[red]failed[/] by {d.channel} after {d.attempts} attempt(s): "
                      f"{d.error} (recorded; see `stockpilot report deliveries --failed`)")
        raise typer.Exit(1)


@report_app.command("deliveries")
def list_deliveries(failed: bool = typer.Option(False, help="Only failed deliveries."),
                    limit: int = typer.Option(50, min=1),
                    ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Mailed reports and digests, newest first, with the error of each failed one."""
    from rich.table import Table

    from stockpilot.store.uow import reading
    from stockpilot.usecases import deliveries

    w = workspace(ws, db)
    with reading(w.engine) as uow:
        rows = deliveries.deliveries(uow, SYSTEM, failed_only=failed, limit=limit)
    table = Table("id", "when", "kind", "channel", "to", "status", "attempts", "error")
    for r in rows:
        table.add_row(str(r["id"]), f"{r['created_at']:%Y-%m-%d %H:%M}", r["kind"],
                      r["channel"], r["recipients"], r["status"], str(r["attempts"]),
                      r["last_error"] or "")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``report`` to the top-level app."""
    app.add_typer(report_app, name="report")
