"""``stockpilot recommend experiment …``: start, stop, list and report A/B tests."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, workspace

app = typer.Typer(help="A/B tests of recommenders (sticky per customer).", no_args_is_help=True)


def _variant(text: str):  # type: ignore[no-untyped-def]
    """``name:model[:mode[:weight]]`` → a variant."""
    from stockpilot.recommend.abtest import Variant

    parts = text.split(":")
    if len(parts) < 2 or len(parts) > 4 or not all(parts):
        raise typer.BadParameter(f"--variant {text!r}: write name:model[:mode[:weight]]")
    mode = parts[2] if len(parts) > 2 else "substitute"
    weight = float(parts[3]) if len(parts) > 3 else 1.0
    return Variant(parts[0], parts[1], mode, weight)


@app.command()
def start(name: str = typer.Argument(...),
          variant: list[str] = typer.Option(..., help="name:model[:mode[:weight]]; the first "
                                            "is the control (repeat for each variant)."),
          ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Start an A/B test; customers are split by a hash of their id, sticky."""
    from stockpilot.store.uow import transact
    from stockpilot.usecases.recommend_experiments import start as run

    row = transact(workspace(ws, db).engine, run, name, [_variant(v) for v in variant])
    arms = [f"{v['name']} ({v['model']}, {v['mode']}, weight {v['weight']})"
            for v in row["variants"]]
    console.print(f"started {row['name']}: " + ", ".join(arms))


@app.command()
def stop(name: str = typer.Argument(...), ws: Path | None = WorkspaceOpt,
         db: str | None = DbOpt) -> None:
    """Stop a running A/B test (its report stays)."""
    from stockpilot.store.uow import transact
    from stockpilot.usecases.recommend_experiments import stop as run

    transact(workspace(ws, db).engine, run, name)
    console.print(f"stopped {name}")


@app.command("list")
def listing(ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Every experiment, newest first."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases.recommend_experiments import listing as run

    with reading(workspace(ws, db).engine) as uow:
        rows = run(uow)
    for row in rows:
        console.print(f"{row['name']}  {row['status']}  started {row['started_at']}")


@app.command()
def report(name: str = typer.Argument(...), ws: Path | None = WorkspaceOpt,
           db: str | None = DbOpt,
           as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Impressions, CTR, conversion, revenue per impression (95% intervals) and power."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.recommend_experiments import experiment_report

    with reading(workspace(ws, db).engine) as uow:
        rep = experiment_report(uow, SYSTEM, name)
    if as_json:
        print(json.dumps(rep, default=str, indent=2))
        return
    table = Table("variant", "impressions", "CTR", "conversion", "revenue / impression",
                  "power", title=f"{name} ({rep['status']}); winner: {rep['winner'] or '—'}")
    for r in rep["rows"]:
        table.add_row(r["variant"], str(r["impressions"]), _ci(r["ctr"], r["ctr_ci"]),
                      _ci(r["conversion"], r["conversion_ci"]),
                      _ci(r["revenue_per_impression"], r["revenue_per_impression_ci"], 3),
                      "control" if r["power"] is None else f"{r['power']:.2f}")
    console.print(table)


def _ci(x: float, ci: tuple[float, float], digits: int = 4) -> str:
    return f"{x:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
