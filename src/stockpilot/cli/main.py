"""Entry point of the ``stockpilot`` command. Each area registers its own sub-commands here."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from stockpilot.errors import StockpilotError

app = typer.Typer(
    name="stockpilot",
    help="Inventory planning for e-commerce: ledger, forecasts, orders, simulation, alerts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)

# Sub-command groups: one module per area, each defines `app` (a typer.Typer) or commands.
# (Add a line per area; keep this list sorted.)
from stockpilot.cli import (  # noqa: E402
    alerts_cmds,
    count_cmds,
    demo_cmds,
    forecast_cmds,
    import_cmds,
    leadtime_cmds,
    network_cmds,
    orders_cmds,
    overrides_cmds,
    pipeline_cmds,
    plan_cmds,
    recommend_cmds,
    report_cmds,
    serve_cmds,
    simulate_cmds,
    sourcing_cmds,
    stock_cmds,
    stream_cmds,
    users_cmds,
    vmi_cmds,
    worklist_cmds,
    workspace_cmds,
)

app.add_typer(alerts_cmds.app, name="alerts")
app.add_typer(count_cmds.app, name="counts")
app.add_typer(import_cmds.app, name="import")
app.add_typer(network_cmds.app, name="network")
app.add_typer(overrides_cmds.app, name="overrides")
app.add_typer(recommend_cmds.app, name="recommend")
app.add_typer(stock_cmds.events_app, name="events")
app.add_typer(stock_cmds.stock_app, name="stock")
app.add_typer(users_cmds.app, name="users")
app.add_typer(vmi_cmds.app, name="vmi")
workspace_cmds.register(app)
demo_cmds.register(app)
forecast_cmds.register(app)
leadtime_cmds.register(app)
pipeline_cmds.register(app)
orders_cmds.register(app)
plan_cmds.register(app)
report_cmds.register(app)
serve_cmds.register(app)
simulate_cmds.register(app)
sourcing_cmds.register(app)
stream_cmds.register(app)
worklist_cmds.register(app)


def main() -> None:
    """Run the CLI; a user error prints one line and exits 1, never a traceback."""
    try:
        # Without standalone mode click *returns* the code of a ``typer.Exit`` instead of
        # exiting with it (so `stock check` printed ✗ and exited 0): pass it on.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except StockpilotError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        # Usage errors (unknown option, bad value) come from the click that Typer bundles;
        # show them the way click does, without a traceback.
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise
