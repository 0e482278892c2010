"""``stockpilot plan`` and ``stockpilot orders …``: suggestions with reasons, approval."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer
from rich.table import Table

from stockpilot.cli.common import Workspace, WorkspaceOpt, console, spinner, workspace
from stockpilot.ledger.export import write_csv
from stockpilot.store.artifacts import ArtifactStore
from stockpilot.store.uow import writing
from stockpilot.usecases import purchasing
from stockpilot.usecases.actor import SYSTEM

orders_app = typer.Typer(help="Purchase-order suggestions: show, export, approve.",
                         no_args_is_help=True)
def _named_numbers(items: list[str], option: str, form: str) -> dict[str, float]:
    """``NAME=NUMBER`` options as a dict; a malformed one is a usage error naming it."""
    out = {}
    for item in items:
        name, _, number = item.partition("=")
        try:
            out[name.strip()] = float(number)
        except ValueError:
            raise typer.BadParameter(f"{option} {item!r}: expected {form}") from None
    return out


transfers_app = typer.Typer(help="Transfers from a distribution centre to stores (LP).",
                            no_args_is_help=True)


@transfers_app.command("plan")
def transfers_plan(dc: str = typer.Option(..., "--from", help="The distribution centre."),
                   cost: float = typer.Option(0.5, min=0.0, help="Transfer cost per unit."),
                   capacity: list[str] = typer.Option([], help="STORE=UNITS receiving "
                                                      "capacity (repeatable)."),
                   out: Path | None = typer.Option(None, help="Write the lines to CSV."),
                   apply: bool = typer.Option(False, "--apply", help="Ship the transfers "
                                              "(in transit until received)."),
                   ws: Path | None = WorkspaceOpt) -> None:
    """Allocate the DC's available stock to stores' needs from the latest plan."""
    from stockpilot.jobs.transfers import apply_transfers, plan_transfers

    caps = _named_numbers(capacity, "--capacity", "STORE=UNITS")
    w = workspace(ws)
    with spinner("allocating"):
        lines = plan_transfers(w.engine, w.history, dc, transfer_cost=cost,
                               capacity=caps or None)
    console.print(f"{lines.height} transfers, {int(lines['qty'].sum() or 0):,} units from {dc}")
    for r in lines.head(10).iter_rows(named=True):
        console.print(f"{r['sku']} → {r['to_location']}: {r['qty']} — {r['reason']}",
                      highlight=False)
    if out:
        write_csv(out, lines.columns, lines.iter_rows())
        console.print(f"written to {out}")
    if apply and lines.height:
        done = apply_transfers(w.engine, lines)
        console.print(f"{done.applied} transfers shipped: in transit until `stockpilot transit "
                      "receive ID`" + (f" ({done.duplicates} shipped before)"
                                       if done.duplicates else ""))
        for bad in done.rejected:
            console.print(f"[red]rejected[/red] {bad.sku} {bad.from_location} → "
                          f"{bad.to_location} ({bad.qty}): {bad.error}", highlight=False)
        if done.rejected:
            raise typer.Exit(1)


def plan(review: int = typer.Option(7, min=1, max=90, help="Review period R in days."),
         show: int = typer.Option(10, min=0, help="Suggestions to print."),
         budget: list[str] = typer.Option([], help="SUPPLIER=AMOUNT: spend limit; lines are "
                                          "ranked by marginal value and the rest deferred."),
         holding_rate: float = typer.Option(0.25, min=0.0, help="Annual holding cost as a "
                                            "share of unit cost (for budget ranking)."),
         ws: Path | None = WorkspaceOpt) -> None:
    """Compute order-up-to levels and today's purchase-order suggestions, each with a reason."""
    from stockpilot.jobs.plan import run_plan

    budgets = _named_numbers(budget, "--budget", "SUPPLIER=AMOUNT")
    w = workspace(ws)
    with spinner("planning"):
        result = run_plan(w.engine, w.history, review_days=review, budgets=budgets or None,
                          holding_rate=holding_rate, sourcing_routes=w.settings.sourcing,
                          service_levels=w.settings.service_levels)
    due = result.filter(pl.col("order_qty") > 0).sort("order_value", descending=True)
    console.print(f"{result.height} SKU-locations planned; {due.height} orders due, value "
                  f"{due['order_value'].sum():,.2f}")
    for r in due.head(show).iter_rows(named=True):
        console.print(f"[bold]{r['unique_id']}[/] ({r['supplier']}): {r['reason']}",
                      highlight=False)
    if "flags" in result.columns:
        flagged = result.filter(pl.col("flags").list.len() > 0)
        console.print(f"{flagged.height} of {result.height} levels flagged as implausible "
                      f"({result.height - flagged.height} pass the guard)")
        for r in flagged.head(show).iter_rows(named=True):
            console.print(f"[yellow]flag[/] {r['unique_id']} {', '.join(r['flags'])}: "
                          f"order-up-to {r['order_up_to']:,} vs largest past "
                          f"{r['protection_days']}-day demand {r['largest_past_demand']:,.0f} "
                          f"({r['method']})", highlight=False)
    methods = result.group_by("method").len().sort("len", descending=True)
    console.print("demand over lead time: " + ", ".join(
        f"{m} {n}" for m, n in methods.iter_rows()))
    if "deferred_qty" in result.columns:
        deferred = result.filter(pl.col("deferred_qty") > 0)
        console.print(f"{deferred.height} lines deferred by the budget")


def segments(k: int | None = typer.Option(None, min=2, max=20, help="Number of segments "
                                          "(default: best silhouette over 2–8)."),
             window: int = typer.Option(365, min=28, help="Days of history to use."),
             out: Path | None = typer.Option(None, help="Write the features and labels "
                                             "to this CSV."),
             ws: Path | None = WorkspaceOpt) -> None:
    """Group SKUs by k-means on demand features (volume, intermittency, seasonality, …)."""
    from stockpilot.forecast.data import prepare, to_long
    from stockpilot.planning.segments import FEATURES, segment_skus
    from stockpilot.store.uow import reading
    from stockpilot.usecases.plan_inputs import series_prices

    w = workspace(ws)
    with spinner("segmenting"):
        hist = prepare(to_long(w.history.daily())).df
        hist = hist.filter(pl.col("ds") > hist["ds"].max() - pl.duration(days=window))
        with reading(w.engine) as uow:
            prices = series_prices(uow.conn, hist.select("unique_id").unique())
        seg = segment_skus(hist, prices, k=k)
    console.print(f"k = {seg.k}" + (" (silhouette " + ", ".join(
        f"k={c}: {v:.3f}" for c, v in seg.silhouette.items()) + ")" if seg.silhouette else ""))
    table = Table("segment", "SKUs", *FEATURES, title="segment means")
    means = seg.features.group_by("segment").agg(pl.len(), *[pl.col(f).mean()
                                                              for f in FEATURES]).sort("segment")
    for r in means.iter_rows():
        table.add_row(str(r[0]), str(r[1]), *[f"{v:.3g}" for v in r[2:]])
    console.print(table)
    if out:
        write_csv(out, seg.features.columns, seg.features.iter_rows())
        console.print(f"features and segments → {out}")


def _latest(ws: Path | None) -> tuple[Workspace, pl.DataFrame]:
    w = workspace(ws)
    ArtifactStore(w.history).plan()  # NoPlanYet when there is none
    return w, w.history.read("plans", "latest")  # as written, for export


@orders_app.command("show")
def show(ws: Path | None = WorkspaceOpt) -> None:
    """Suggested orders per supplier (from the latest plan)."""
    _, result = _latest(ws)
    due = result.filter(pl.col("order_qty") > 0)
    table = Table("supplier", "lines", "units", "value", title="suggested purchase orders")
    for r in due.group_by("supplier").agg(pl.len(), pl.col("order_qty").sum(),
                                          pl.col("order_value").sum()).sort("supplier").rows():
        table.add_row(r[0], str(r[1]), f"{r[2]:,.0f}", f"{r[3]:,.2f}")
    console.print(table)


@orders_app.command("export")
def export(out: Path = typer.Argument(..., help="CSV to write."),
           ws: Path | None = WorkspaceOpt) -> None:
    """Write every suggestion with its reason to CSV (spreadsheet-safe)."""
    _, result = _latest(ws)
    n = write_csv(out, result.columns, result.rows())
    console.print(f"wrote {n} lines to {out}")


@orders_app.command("approve")
def approve(supplier: list[str] = typer.Option(None, help="Only these suppliers (repeat)."),
            ws: Path | None = WorkspaceOpt) -> None:
    """Turn suggestions into purchase orders (units go on order); once per plan line."""
    w = workspace(ws)
    plan = ArtifactStore(w.history).plan()
    with writing(w.engine) as uow:
        done = purchasing.approve_plan(uow, SYSTEM, plan, supplier or None)
    new = set(done.created)
    shown = [f"{i}" if i in new else f"{i} (approved before)" for i in done.purchase_orders]
    console.print(f"purchase orders: {', '.join(shown) or 'none due'}")
    if done.created:
        from stockpilot.usecases.alert_refresh import refresh_after_approval

        got = refresh_after_approval(w.engine, w.history, done.created)
        console.print(f"alerts: {got['resolved']} resolved by the orders")


def register(app: typer.Typer) -> None:
    """Add ``plan`` and ``orders`` to the top-level app."""
    app.command()(plan)
    app.command()(segments)
    app.add_typer(orders_app, name="orders")
    app.add_typer(transfers_app, name="transfers")
