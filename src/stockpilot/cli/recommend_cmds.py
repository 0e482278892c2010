"""``stockpilot recommend …``: evaluate models on a temporal split, export recommendations."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, spinner, workspace
from stockpilot.store.uow import reading
from stockpilot.usecases import recommendations
from stockpilot.usecases.actor import SYSTEM

app = typer.Typer(help="Product recommendations (Online Retail style order lines).",
                  no_args_is_help=True)


def _lines(data: Path):  # type: ignore[no-untyped-def]
    from stockpilot.ingest.online_retail import read_invoices
    from stockpilot.ingest.online_retail_import import split_lines

    kept, _, _ = split_lines(read_invoices(data))
    return kept


def _pick(lines, cutoff, weights, names):  # type: ignore[no-untyped-def]
    from stockpilot.recommend.hybrid import zoo

    every = zoo(lines, cutoff, weights)
    if not names:
        return every
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in every]
    if unknown:
        raise typer.BadParameter(f"unknown model(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(every)}")
    return {n: every[n] for n in wanted}


@app.command()
def evaluate(data: Path = typer.Option(..., help="online_retail.csv[.gz]"),
             cutoff: datetime = typer.Option(..., formats=["%Y-%m-%d"]),
             end: datetime | None = typer.Option(None, formats=["%Y-%m-%d"],
                                                 help="End of the evaluation (default +30 d)."),
             k: int = typer.Option(10, min=1, max=100),
             models: str | None = typer.Option(None, help="Comma-separated subset of "
                                               "models (default: all)."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Train every model on rows before the cut-off; score each customer's later purchases."""
    from datetime import timedelta

    from stockpilot.recommend.evaluate import evaluate as run
    from stockpilot.recommend.hybrid import tune

    with spinner("evaluating recommenders"):
        lines = _lines(data)
        weights, _ = tune(lines, cutoff, k=k)
        chosen = _pick(lines, cutoff, weights, models)
        rows = run(lines, cutoff, end or cutoff + timedelta(days=30), chosen, k)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("model", "items", f"P@{k}", f"R@{k}", f"NDCG@{k}", f"MAP@{k}", "coverage",
                  title=f"recommenders, cut-off {cutoff:%Y-%m-%d} (hybrid weights {weights})")
    for r in rows:
        table.add_row(str(r["model"]), str(r["items"]), *[f"{r[c]:.4f}" for c in (
            "precision", "recall", "ndcg", "map", "coverage")])
    console.print(table)


@app.command()
def export(data: Path = typer.Option(..., help="online_retail.csv[.gz]"),
           cutoff: datetime = typer.Option(..., formats=["%Y-%m-%d"]),
           k: int = typer.Option(10, min=1, max=100),
           model_name: str = typer.Option("ranker", "--model",
                                          help="Which model (see `evaluate`)."),
           out: Path = typer.Option(Path("recs.csv"))) -> None:
    """Write ``customer_id,rank,stock_code`` for every customer seen before the cut-off."""
    import polars as pl

    from stockpilot.recommend.data import baskets, build, lines_frame
    from stockpilot.recommend.evaluate import top_k
    from stockpilot.recommend.hybrid import tune

    with spinner(f"training {model_name} and exporting"):
        lines = _lines(data)
        weights, _ = tune(lines, cutoff, k=k)
        factory = _pick(lines, cutoff, weights, model_name)[model_name]
        lf = lines_frame(lines)
        inter = build(lf, cutoff)
        model = factory().fit(inter, baskets(lf, cutoff, inter.items))  # type: ignore[attr-defined]
        rows = []
        for start in range(0, len(inter.users), 1000):
            idx = np.arange(start, min(start + 1000, len(inter.users)))
            for u, rec in zip(idx, top_k(model.scores(idx), k), strict=True):
                rows += [(inter.users[u], rank + 1, inter.items[j]) for rank, j in enumerate(rec)]
    pl.DataFrame(rows, schema=["customer_id", "rank", "stock_code"], orient="row").write_csv(out)
    console.print(f"{len(inter.users)} customers × {k} to {out}")



@app.command()
def train(cutoff: datetime = typer.Option(..., formats=["%Y-%m-%d"],
                                          help="Train on order lines before this day."),
          data: Path | None = typer.Option(None, help="A file instead of the workspace's "
                                           "order lines."),
          ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Fit the recommender and save it in the workspace (models/recommend/)."""
    from stockpilot.recommend.service import train as run

    w = workspace(ws, db)
    with spinner("training the recommender"):
        lines = _lines(data) if data else _workspace_lines(w)
        trained = run(lines, cutoff, w.settings.workspace / "models" / "recommend")
    console.print(f"trained on {len(trained.users):,} customers × {len(trained.items):,} items")


@app.command("for-customer")
def for_customer(customer: str = typer.Argument(...),
                 location: str = typer.Option("ONLINE", help="Fulfilment location."),
                 k: int = typer.Option(10, min=1, max=100),
                 ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Recommend in-stock items for one customer (unknown customers get popular ones)."""
    from stockpilot.recommend.service import for_customer as run
    from stockpilot.recommend.service import load

    w = workspace(ws, db)
    trained = load(w.settings.workspace / "models" / "recommend")
    with reading(w.engine) as uow:
        available = recommendations.available_at(uow, SYSTEM, location)
    for rank, sku in enumerate(run(trained, customer, available, k), 1):
        console.print(f"{rank:>2}. {sku} (available {available.get(sku, 0)})")


def _workspace_lines(w):  # type: ignore[no-untyped-def]
    with reading(w.engine) as uow:
        return recommendations.order_lines(uow, SYSTEM)
