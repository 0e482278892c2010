"""Recommendations in production (issue 19): every model on a temporal split, the served model
offline and over HTTP, and the refresh time.

    python benchmarks/recommend_production.py [--data ../shared/data] [--seconds 10]
        [--tune-cutoff 2011-08-01] [--cutoff 2011-09-01] [--neural]

1. Choose on the EARLIER split (train before ``--tune-cutoff``, score the next 30 days): every
   model's NDCG@10 (all items); the best one becomes the served model.
2. Report on the LATER split (train before ``--cutoff``, score the next 30 days): every model's
   NDCG@10 vs repeat purchase and popularity, and the served model's offline score through the
   serving path itself (``service.evaluate_served``: scores → stock-aware re-ranking with
   everything available).
3. Over HTTP: ``stockpilot serve`` (SQLite workspace, the served model chosen in
   ``stockpilot.toml``, its items stocked at ONLINE with a seeded 15% out of stock) answering
   ``GET /recommendations/customers/{id}`` for random trained customers: one client, then 50
   closed-loop clients with 1 and 2 uvicorn workers (same machine as the load generator).
4. Refresh: the served model trained before ``--tune-cutoff`` refreshed on the month after
   (``usecases.recommend_training.refresh``), its refit time recorded.
"""

from __future__ import annotations

import argparse
import asyncio
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
from stockpilot.recommend.service import evaluate_served, fit, save

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2011, 10, 1, tzinfo=UTC)


def every_model(lines, cutoff: datetime, neural: bool) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    weights, _ = tune(lines, cutoff)
    models = zoo(lines, cutoff, weights, neural=neural)
    return evaluate(lines, cutoff, cutoff + timedelta(days=30), models, 10)


def seed_workspace(ws: Path, trained, out_share: float = 0.15) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A SQLite workspace serving ``trained``; returns (db url, viewer key)."""
    from stockpilot.api.auth import create_key
    from stockpilot.domain.commands import ReceiveStock
    from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
    from stockpilot.ledger.service import apply_events
    from stockpilot.store.db import make_engine
    from stockpilot.store.migrate import upgrade

    url = f"sqlite:///{ws / 'stockpilot.db'}"
    engine = make_engine(url, synchronous="NORMAL")
    upgrade(engine)
    rng = random.Random(15)
    with engine.begin() as conn:
        upsert_locations(conn, [{"location": "ONLINE"}])
        upsert_skus(conn, [{"sku": s, "name": s} for s in trained.items])
    apply_events(engine, [ReceiveStock(event_id=f"rec-{s}", sku=s, location="ONLINE",
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
    args = ap.parse_args()
    early, late = (datetime.fromisoformat(args.tune_cutoff), datetime.fromisoformat(args.cutoff))
    lines = read_order_lines(args.data / "online_retail" / "online_retail.csv.gz")
    print(f"# recommenders in production — {machine()}\n")

    chosen_rows = every_model(lines, early, args.neural)
    tuned = {r["model"]: r["ndcg"] for r in chosen_rows if r["items"] == "all"}
    served = max(tuned, key=lambda n: float(tuned[n]))  # type: ignore[arg-type]
    print(f"choice on the earlier split (cut-off {args.tune_cutoff}): NDCG@10 " + ", ".join(
        f"{n} {float(v):.4f}" for n, v in tuned.items()) + f" → served model: {served}\n")

    rows = every_model(lines, late, args.neural)
    base = {r["model"]: r for r in rows if r["items"] == "all"}
    rep, pop = float(base["repeat"]["ndcg"]), float(base["popularity"]["ndcg"])
    print(f"## report split: train before {args.cutoff}, score the next 30 days "
          f"({int(base['repeat']['users'])} customers)\n")
    print("| model | NDCG@10 | × repeat | × popularity | P@10 | R@10 | fit s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in base.items():
        n = float(r["ndcg"])
        print(f"| {name} | {n:.4f} | {n / rep:.3f} | {n / pop:.2f} | {r['precision']:.4f} | "
              f"{r['recall']:.4f} | {r['fit_s']:.1f} |")

    trained = fit(lines, late, served)
    offline = evaluate_served(trained, lines, late + timedelta(days=30))
    print(f"\nserved model {served} through the serving path (fit {trained.fit_s:.1f} s): "
          f"NDCG@10 {offline['ndcg']:.4f} = {offline['ndcg'] / rep:.3f}× repeat "
          f"({int(offline['users'])} customers; target 1.15×)")

    start = fit(lines, early, served)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "models"
        save(start, folder)
        from stockpilot.usecases.recommend_training import refresh

        month = lines.filter(lines["at"] < late)
        t0 = time.perf_counter()
        run = refresh(None, folder, served, month, with_feedback=False)  # type: ignore[arg-type]
        print(f"refresh of {served} from cut-off {args.tune_cutoff} to {run['cutoff']}: refit "
              f"{run['fit_s']:.1f} s, total {time.perf_counter() - t0:.1f} s (full train with "
              f"tuning: {start.fit_s:.1f} s)\n")

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
    print(f"command: python benchmarks/recommend_production.py --tune-cutoff {args.tune_cutoff} "
          f"--cutoff {args.cutoff} --seconds {args.seconds:g}")


if __name__ == "__main__":
    main()
