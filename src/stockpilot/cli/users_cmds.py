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
