"""Recommendations in production (issue 19): every model on a temporal split, the served model
offline and over HTTP, and the refresh time.

    python benchmarks/recommend_production.py [--data ../shared/data] [--seconds 10]
        [--tune-cutoff 2011-08-01] [--cutoff 2011-09-01] [--served NAME]
        [--ranker-params cutoffs=6] [--neural]

1. Choose on the EARLIER split (train before ``--tune-cutoff``, score the next 30 days): every
   model's NDCG@10 (all items); the best one becomes the served model. ``--served NAME`` skips
   this step when the choice was made before (e.g. with ``benchmarks/recommend_ranker_choice.py``
   on the same earlier split).
2. Report on the LATER split (train before ``--cutoff``, score the next 30 days): every model's
   NDCG@10 vs repeat purchase and popularity; the served model's row is measured through the
   serving path itself (``service.fit`` + ``service.evaluate_served``: scores → stock-aware
   re-ranking in ``filter`` mode with everything available), so it is the model that serves.
3. Over HTTP: ``stockpilot serve`` (SQLite workspace, the served model chosen in
   ``stockpilot.toml``, its items stocked at ONLINE with a seeded 15% out of stock, substitute
   mode) answering ``GET /recommendations/customers/{id}`` for random trained customers: one
   client, then 50 closed-loop clients with 1 and 2 uvicorn workers (the load generator runs
   on the same machine).
4. Refresh: the served model (cut-off ``--cutoff``) refreshed on the order lines after it
   (``usecases.recommend_training.refresh``), its refit time recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from api_load import RssSampler, free_port, load, start_server
from stockpilot.recommend.evaluate import evaluate
from stockpilot.recommend.hybrid import tune, zoo
from stockpilot.recommend.lines import read_order_lines
from stockpilot.recommend.service import _with_params, evaluate_served, fit, save

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2011, 10, 1, tzinfo=UTC)


def every_model(lines, cutoff: datetime, neural: bool, params: dict[str, object],  # type: ignore[no-untyped-def]
                skip: str | None = None) -> list[dict[str, object]]:
    weights, _ = tune(lines, cutoff)
    models = zoo(lines, cutoff, weights, neural=neural)
    ranker = models["ranker"]
    models["ranker"] = lambda: _with_params(ranker(), params)
    models.pop(skip or "", None)
    return evaluate(lines, cutoff, cutoff + timedelta(days=30), models, 10)


def _params(text: str) -> dict[str, object]:
    return {k: json.loads(v) for k, v in (p.split("=") for p in text.split(",") if p)}


def seed_workspace(ws: Path, trained, out_share: float = 0.15) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A SQLite workspace serving ``trained``; returns (db url, viewer key)."""
    from stockpilot.api.auth import create_key
    from stockpilot.domain.commands import ReceiveStock
    from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
    from stockpilot.ledger.service import apply_events
    from stockpilot.store.db import make_engine
    from stockpilot.store.migrate import upgrade
    from stockpilot.store.uow import transact

    url = f"sqlite:///{ws / 'stockpilot.db'}"
    engine = make_engine(url, synchronous="NORMAL")
    upgrade(engine)
    rng = random.Random(15)
    with engine.begin() as conn:
        upsert_locations(conn, [{"location": "ONLINE"}])
        upsert_skus(conn, [{"sku": s, "name": s} for s in trained.items])
    transact(engine, apply_events, [ReceiveStock(event_id=f"rec-{s}", sku=s, location="ONLINE",
                                                 quantity=rng.randint(1, 20), occurred_at=NOW)
                                    for s in trained.items if rng.random() >= out_share])
    key = create_key(engine, "bench", "viewer")
    engine.dispose()
    save(trained, ws / "models" / "recommend")
    (ws / "stockpilot.toml").write_text(
        f'[stockpilot]\ndefault_location = "ONLINE"\n\n[stockpilot.recommend]\n'
        f'model = "{trained.name}"\nmode = "substitute"\n')
    return url, key


def http_cases(ws: Path, url: str, key: str, users: list[str], seconds: float
               ) -> list[tuple[str, int, int, np.ndarray, int, float, float]]:
    rows = []
    for clients, workers in ((1, 1), (50, 1), (50, 2)):
        port = free_port()
        proc = start_server(url, ws, port, workers)
        try:
            sampler = RssSampler(proc.pid)
            sampler.start()
            base = f"http://127.0.0.1:{port}"
            asyncio.run(load(base, key, lambda: f"/recommendations/customers/{users[0]}", 1, 1.0))
            lat, errors = asyncio.run(load(
                base, key, lambda: f"/recommendations/customers/{random.choice(users)}",
                clients, seconds))
            sampler.stop.set()
            rows.append(("GET /recommendations/customers/{id}", clients, workers, lat, errors,
                         sampler.peak / 2**20, len(lat) / seconds))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--tune-cutoff", default="2011-08-01")
    ap.add_argument("--cutoff", default="2011-09-01")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--neural", action="store_true")
    ap.add_argument("--served", default=None, help="skip the choice on the earlier split")
    ap.add_argument("--ranker-params", default="", help="e.g. cutoffs=6,n_estimators=400")
    args = ap.parse_args()
    early, late = (datetime.fromisoformat(args.tune_cutoff), datetime.fromisoformat(args.cutoff))
    lines = read_order_lines(args.data / "online_retail" / "online_retail.csv.gz")
    print(f"# recommenders in production — {machine()}\n")

    params = _params(args.ranker_params)
    served = args.served
    if served is None:
        chosen_rows = every_model(lines, early, args.neural, params)
        tuned = {r["model"]: r["ndcg"] for r in chosen_rows if r["items"] == "all"}
        served = max(tuned, key=lambda n: float(tuned[n]))  # type: ignore[arg-type]
        print(f"choice on the earlier split (cut-off {args.tune_cutoff}): NDCG@10 " + ", ".join(
            f"{n} {float(v):.4f}" for n, v in tuned.items()) + f" → served model: {served}\n")
    served_params = params if served == "ranker" else {}

    rows = every_model(lines, late, args.neural, params, skip=served)
    base = {str(r["model"]): r for r in rows if r["items"] == "all"}
    trained = fit(lines, late, served, served_params or None)
    offline = evaluate_served(trained, lines, late + timedelta(days=30))
    base[served] = {**offline, "fit_s": trained.fit_s}
    rep, pop = float(base["repeat"]["ndcg"]), float(base["popularity"]["ndcg"])
    print(f"## report split: train before {args.cutoff}, score the next 30 days "
          f"({int(base['repeat']['users'])} customers)\n")
    print("| model | NDCG@10 | × repeat | × popularity | P@10 | R@10 | fit s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in base.items():
        n = float(r["ndcg"])
        tag = f"**{name}** (served{', ' + args.ranker_params if served_params else ''})" \
            if name == served else name
        print(f"| {tag} | {n:.4f} | {n / rep:.3f} | {n / pop:.2f} | {r['precision']:.4f} | "
              f"{r['recall']:.4f} | {float(r['fit_s']):.1f} |")
    print(f"\nserved model {served}, measured through the serving path: NDCG@10 "
          f"{offline['ndcg']:.4f} = {offline['ndcg'] / rep:.3f}× repeat (target 1.15×)")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "models"
        save(trained, folder)
        from stockpilot.usecases.recommend_training import refresh

        t0 = time.perf_counter()
        run = refresh(None, folder, served, lines, with_feedback=False)
        print(f"refresh of {served} from cut-off {args.cutoff} to {run['cutoff']} "
              f"({run['new_customers']} new customers): refit {run['fit_s']:.1f} s, total "
              f"{time.perf_counter() - t0:.1f} s\n")

        ws = Path(tmp) / "ws"
        ws.mkdir()
        url, key = seed_workspace(ws, trained)
        cases = http_cases(ws, url, key, trained.users, args.seconds)
    print("| route | clients | workers | requests | req/s | p50 ms | p99 ms | errors | "
          "server peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for route, clients, workers, lat, errors, rss, rps in cases:
        print(f"| {route} | {clients} | {workers} | {len(lat)} | {rps:.0f} | "
              f"{np.percentile(lat, 50):.1f} | {np.percentile(lat, 99):.1f} | {errors} | "
              f"{rss:.0f} |")
    print(f"\nbenchmark process peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("command: python benchmarks/recommend_production.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
