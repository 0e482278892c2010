"""``stockpilot counts list|start|show|scan|approve|history``: cycle counting from the shell.

The CLI acts with every role at every location (as the scheduler does), recorded under the
shell user's name.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, workspace
from stockpilot.store.uow import reading, writing
from stockpilot.usecases import count_posting, counting
from stockpilot.usecases.actor import Actor

app = typer.Typer(help="Cycle counting: risk-ranked count lists, sessions, scans, approval.",
                  no_args_is_help=True)
SkusOpt = typer.Option(None, "--sku", help="A SKU (repeat the option for several).")


def _me() -> Actor:
    return Actor("admin", None, name=getpass.getuser())


@app.command("list")
def list_cmd(location: str | None = typer.Option(None, help="Only this location."),
             all_: bool = typer.Option(False, "--all", help="Every SKU-location, not only "
                                       "the due ones."),
             limit: int | None = typer.Option(None, min=1, help="At most N per location."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON lines."),
             ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """SKU-locations due for counting, riskiest first (value × velocity × age × anomaly)."""
    w = workspace(ws, db)
    with reading(w.engine) as uow:
        rows = counting.list_due(uow, _me(), counting.policy_of(w.settings.counting),
                                 location=location, due_only=not all_, limit=limit)
    if as_json:
        for r in rows:
            typer.echo(json.dumps(r, default=str))
        return
    table = Table("rank", "location", "sku", "abc", "on hand", "value", "per day", "days",
                  "P(quiet)", "anomaly", "risk", title=f"Count list ({len(rows)} lines)")
    for r in rows:
        table.add_row(str(r["rank"]), r["location"], r["sku"], r["abc"], str(r["on_hand"]),
                      f"{r['value']:,.2f}", f"{r['velocity']:.2f}",
                      str(r["days_since_count"] if r["days_since_count"] is not None else "never"),
                      f"{r['phantom_p']:.2g}", f"{r['anomaly']:.2f}", f"{r['risk']:,.0f}")
    console.print(table)


@app.command("start")
def start_cmd(location: str = typer.Argument(..., help="The location to count."),
              limit: int | None = typer.Option(None, min=1, help="At most N lines."),
              sku: list[str] | None = SkusOpt,
              ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Open a count session: the due lines (or the given SKUs) with their book frozen."""
    w = workspace(ws, db)
    with writing(w.engine) as uow:
        sid = counting.start_session(uow, _me(), location, counting.policy_of(
            w.settings.counting), limit=limit, skus=sku or None)
        n = len(counting.get_session(uow, _me(), sid)["lines"])
    console.print(f"count session {sid} open at {location}: {n} lines")


@app.command("show")
def show_cmd(session_id: int = typer.Argument(..., help="The session id."),
             ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """A session's lines: frozen book, book at the count, counts, variance, state."""
    with reading(workspace(ws, db).engine) as uow:
        s = counting.get_session(uow, _me(), session_id)
    table = Table("rank", "sku", "status", "frozen", "book at count", "first", "counted",
                  "variance", title=f"Count session {session_id} at {s['location']} "
                  f"({s['status']})")
    for ln in s["lines"]:
        table.add_row(str(ln["rank"]), ln["sku"], ln["status"], str(ln["frozen_on_hand"]),
                      *[str(ln[k]) if ln[k] is not None else "" for k in
                        ("book_on_hand", "first_counted", "counted", "variance")])
    console.print(table)


@app.command("scan")
def scan_cmd(session_id: int = typer.Argument(..., help="The session id."),
             code: str = typer.Argument(..., help="Barcode or SKU."),
             quantity: int = typer.Argument(..., min=0, help="Units counted."),
             ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Record a count; past the tolerance it asks for a recount (scan again)."""
    w = workspace(ws, db)
    with writing(w.engine) as uow:
        r = counting.scan(uow, _me(), session_id, code, quantity,
                          counting.policy_of(w.settings.counting))
    verdict = "RECOUNT: past the tolerance, count again" if r.recount else "counted"
    console.print(f"{r.sku}@{r.location}: counted {r.counted}, book {r.book_on_hand} "
                  f"(frozen {r.frozen_on_hand}), variance {r.variance:+d} — {verdict}")


@app.command("approve")
def approve_cmd(session_id: int = typer.Argument(..., help="The session id."),
                sku: list[str] | None = SkusOpt,
                ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Post the counted variances to the ledger (all counted lines, or the given SKUs)."""
    with writing(workspace(ws, db).engine) as uow:
        done = count_posting.approve(uow, _me(), session_id, skus=sku or None)
    for d in done:
        console.print(f"{d['sku']}: variance {d['variance']:+d} posted as "
                      f"{d['event_id'] or '(nothing to post)'}")
    console.print(f"{len(done)} lines approved")


@app.command("history")
def history_cmd(sku: str = typer.Argument(..., help="The SKU."),
                location: str | None = typer.Option(None, help="Only this location."),
                ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """The SKU's approved counts, newest first."""
    with reading(workspace(ws, db).engine) as uow:
        rows = count_posting.variance_history(uow, _me(), sku, location=location)
    table = Table("approved", "session", "location", "book", "first", "counted", "variance",
                  "value", "by", title=f"Count variances of {sku}")
    for r in rows:
        table.add_row(str(r["approved_at"])[:16], str(r["session_id"]), r["location"],
                      str(r["book_on_hand"]), str(r["first_counted"]), str(r["counted"]),
                      f"{r['variance']:+d}", f"{r['variance_value']:,.2f}",
                      r["approved_by"] or "")
    console.print(table)
