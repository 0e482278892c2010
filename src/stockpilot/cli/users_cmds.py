"""``stockpilot users``: dashboard sign-ins (argon2-hashed passwords, a role, locations)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, workspace

app = typer.Typer(help="Dashboard users (passwords stored as argon2id hashes).",
                  no_args_is_help=True)


@app.command("add")
def add(name: str = typer.Argument(..., help="User name to sign in with."),
        role: str = typer.Option("viewer", help="viewer | planner | operator | admin"),
        location: list[str] = typer.Option(None, help="Limit to these locations (repeat)."),
        password_stdin: bool = typer.Option(False, "--password-stdin",
                                            help="Read the password from standard input."),
        ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Add a user; the password is prompted for (twice) unless --password-stdin."""
    from stockpilot.web.users import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    create_user(workspace(ws, db).engine, name, password, role, location or None)
    scope = ", ".join(sorted(location)) if location else "all locations"
    console.print(f"user {name} ({role}, {scope}) added")


@app.command("passwd")
def passwd(name: str = typer.Argument(...),
           password_stdin: bool = typer.Option(False, "--password-stdin"),
           ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Set a user's password (prompted unless --password-stdin)."""
    from stockpilot.web.users import set_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    set_password(workspace(ws, db).engine, name, password)
    console.print(f"password of {name} changed")


def _when(ts: object) -> str:
    return str(ts)[:19] if ts else ""


@app.command("list")
def list_(ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """List users: role, locations, live sessions, disabled or not (never a password hash)."""
    from rich.table import Table

    from stockpilot.store.uow import reading
    from stockpilot.usecases import users
    from stockpilot.usecases.actor import SYSTEM

    with reading(workspace(ws, db).engine) as uow:
        rows = users.list_users(uow, SYSTEM)
    table = Table("user", "role", "locations", "sessions", "created", "disabled")
    for r in rows:
        table.add_row(r["username"], r["role"], ", ".join(r["locations"] or []) or "all",
                      str(r["sessions"]), _when(r["created_at"]), _when(r["disabled_at"]))
    console.print(table)


@app.command("disable")
def disable(name: str = typer.Argument(..., help="User to disable."),
            ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Disable a user: sign-in refused and every session ended at once."""
    from stockpilot.store.uow import writing
    from stockpilot.usecases import users
    from stockpilot.usecases.actor import SYSTEM

    with writing(workspace(ws, db).engine) as uow:
        ended = users.disable_user(uow, SYSTEM, name)
    console.print(f"user {name} disabled ({ended} session(s) ended)")


sessions_app = typer.Typer(help="Dashboard sessions of a user.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")


@sessions_app.command("revoke")
def revoke_sessions(name: str = typer.Argument(..., help="User whose sessions end."),
                    ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """End every session of a user (their browsers must sign in again)."""
    from stockpilot.store.uow import writing
    from stockpilot.usecases import users
    from stockpilot.usecases.actor import SYSTEM

    with writing(workspace(ws, db).engine) as uow:
        ended = users.revoke_sessions(uow, SYSTEM, name)
    console.print(f"{ended} session(s) of {name} ended")
