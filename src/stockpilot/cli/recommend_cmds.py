"""``stockpilot recommend …``: train, evaluate, export, serve, refresh; feedback and A/B tests.

Order lines come from the workspace (default) or from a file: UCI Online Retail as it is, or a
shop's own columns mapped with ``--columns customer_id=Cust,order_id=Order,sku=Item,…`` or a
``--spec`` TOML file with a ``[columns]`` table.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, spinner, workspace
from stockpilot.cli.recommend_ab_cmds import app as ab_app
from stockpilot.store.uow import reading
from stockpilot.usecases import recommendations
from stockpilot.usecases.actor import SYSTEM

app = typer.Typer(help="Product recommendations: any model, stock-aware, measured.",
                  no_args_is_help=True)
app.add_typer(ab_app, name="experiment")

DataOpt = typer.Option(None, help="An order-lines file (CSV, CSV.gz, Parquet) instead of the "
                       "workspace's order lines.")
ColumnsOpt = typer.Option(None, help="Column map ours=theirs, e.g. "
                          "customer_id=Cust,order_id=Order,sku=Item,quantity=Qty,occurred_at=At")
SpecOpt = typer.Option(None, help="A TOML file whose [columns] table maps ours = theirs.")
CutoffOpt = typer.Option(..., formats=["%Y-%m-%d"], help="Train on order lines before this day.")


def _lines(data: Path | None, columns: str | None, spec: Path | None, ws: Path | None,
           db: str | None) -> Any:
    """Order lines from ``data`` (mapped by ``columns``/``spec``) or from the workspace."""
    from stockpilot.recommend.lines import parse_columns, read_order_lines

    if data is not None:
        return read_order_lines(data, parse_columns(columns, spec))
    from stockpilot.store.uow import reading
    from stockpilot.usecases.recommend_training import training_lines

    with reading(workspace(ws, db).engine) as uow:
        return training_lines(uow, with_feedback=False)


def _params(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--param {item!r}: write name=value")
        out[key.strip()] = json.loads(value) if value.strip()[:1] in "-0123456789[{tf" \
            else value
    return out


def _pick(lines: Any, cutoff: datetime, weights: dict[str, float], names: str | None
          ) -> dict[str, Any]:
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
def evaluate(cutoff: datetime = CutoffOpt,
             end: datetime | None = typer.Option(None, formats=["%Y-%m-%d"],
                                                 help="End of the evaluation (default +30 d)."),
             k: int = typer.Option(10, min=1, max=100),
             models: str | None = typer.Option(None, help="Comma-separated subset of "
                                               "models (default: all)."),
             data: Path | None = DataOpt, columns: str | None = ColumnsOpt,
             spec: Path | None = SpecOpt, ws: Path | None = WorkspaceOpt,
             db: str | None = DbOpt,
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Train every model on lines before the cut-off; score each customer's later purchases."""
    from stockpilot.recommend.evaluate import evaluate as run
    from stockpilot.recommend.hybrid import tune

    with nullcontext() if as_json else spinner("evaluating recommenders"):
        lines = _lines(data, columns, spec, ws, db)
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
def export(cutoff: datetime = CutoffOpt, k: int = typer.Option(10, min=1, max=100),
           model_name: str = typer.Option("ranker", "--model",
                                          help="Which model (see `evaluate`)."),
           out: Path = typer.Option(Path("recs.csv")),
           data: Path | None = DataOpt, columns: str | None = ColumnsOpt,
           spec: Path | None = SpecOpt, ws: Path | None = WorkspaceOpt,
           db: str | None = DbOpt) -> None:
    """Write ``customer_id,rank,sku`` for every customer seen before the cut-off.

    The lists are the served path's (:func:`stockpilot.recommend.service.recommend`) with
    every item counted as available.
    """
    import polars as pl

    from stockpilot.recommend.service import fit, recommend

    with spinner(f"training {model_name} and exporting"):
        trained = fit(_lines(data, columns, spec, ws, db), cutoff, model_name)
        everything = dict.fromkeys(trained.items, 1)
        rows = [(u, rank, sku) for u in trained.users
                for rank, sku in enumerate(recommend(trained, u, everything, k, "filter"), 1)]
    pl.DataFrame(rows, schema=["customer_id", "rank", "sku"], orient="row").write_csv(out)
    console.print(f"{len(trained.users)} customers × {k} to {out}")


@app.command()
def train(cutoff: datetime = CutoffOpt,
          model: str = typer.Option("hybrid", help="Which model to train and save."),
          param: list[str] | None = typer.Option(None, help="A model parameter name=value "
                                                 "(repeatable), e.g. n_estimators=300."),
          feedback: bool = typer.Option(True, help="Fold recorded add-to-carts in (workspace)."),
          data: Path | None = DataOpt, columns: str | None = ColumnsOpt,
          spec: Path | None = SpecOpt, ws: Path | None = WorkspaceOpt,
          db: str | None = DbOpt) -> None:
    """Fit a model and save it in the workspace (models/recommend/<model>.pkl)."""
    from stockpilot.recommend.service import train as run
    from stockpilot.usecases.recommend_training import train_workspace

    w = workspace(ws, db)
    folder = w.settings.workspace / "models" / "recommend"
    with spinner(f"training the {model} recommender"):
        if data is not None:
            trained = run(_lines(data, columns, spec, ws, db), cutoff, folder, model,
                          _params(param))
        else:
            from stockpilot.store.uow import reading

            with reading(w.engine) as uow:
                trained = train_workspace(uow, folder, cutoff, model, _params(param),
                                          feedback)
    console.print(f"trained {trained.name} on {len(trained.users):,} customers × "
                  f"{len(trained.items):,} items in {trained.fit_s:.1f} s")


@app.command()
def refresh(model: str | None = typer.Option(None, help="Default: the settings' model."),
            feedback: bool = typer.Option(True, help="Fold recorded add-to-carts in."),
            data: Path | None = DataOpt, columns: str | None = ColumnsOpt,
            spec: Path | None = SpecOpt, ws: Path | None = WorkspaceOpt,
            db: str | None = DbOpt) -> None:
    """Refit the served model on order lines newer than its cut-off (nightly)."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases.recommend_training import refresh as run

    w = workspace(ws, db)
    lines = _lines(data, columns, spec, ws, db) if data is not None else None
    with spinner("refreshing the recommender"), reading(w.engine) as uow:
        done = run(uow, w.settings.workspace / "models" / "recommend",
                   model or w.settings.recommend.model, lines, feedback)
    print(json.dumps(done))


@app.command("for-customer")
def for_customer(customer: str = typer.Argument(...),
                 location: str = typer.Option("ONLINE", help="Fulfilment location."),
                 k: int = typer.Option(10, min=1, max=100),
                 model: str | None = typer.Option(None, help="Default: the settings' model."),
                 mode: str | None = typer.Option(None, help="filter, substitute or boost."),
                 ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Recommend in-stock items for one customer (unknown customers get popular ones)."""
    from stockpilot.recommend.service import load, recommend

    w = workspace(ws, db)
    trained = load(w.settings.workspace / "models" / "recommend",
                   model or w.settings.recommend.model)
    from stockpilot.store.artifacts import ArtifactStore

    with reading(w.engine) as uow:
        available = recommendations.available_items(uow, SYSTEM, location, trained.items)
    how = mode or w.settings.recommend.mode
    over = (recommendations.overstock_at(ArtifactStore(w.history), SYSTEM, location, available)
            if how == "boost" else None)
    for rank, sku in enumerate(recommend(trained, customer, available, k, how, over,
                                         w.settings.recommend.boost_weight), 1):
        console.print(f"{rank:>2}. {sku} (available {available.get(sku, 0)})")


@app.command()
def rates(by: str = typer.Option("model,position", help="Group by (comma-separated): model, "
                                 "position, experiment, variant, location."),
          ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Click-through and conversion of served recommendations from recorded feedback."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.recommend_feedback import rates as run

    keys = [b.strip() for b in by.split(",") if b.strip()]
    with reading(workspace(ws, db).engine) as uow:
        rows = run(uow, SYSTEM, keys)
    table = Table(*keys, "impressions", "clicks", "add to cart", "CTR", "conversion")
    for r in rows:
        table.add_row(*[str(r[b]) for b in keys], str(r["impressions"]), str(r["clicks"]),
                      str(r["add_to_carts"]), _pct(r["ctr"]), _pct(r["conversion"]))
    console.print(table)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.2f}%"

