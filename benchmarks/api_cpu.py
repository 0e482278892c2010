"""Server CPU per API request, ours beside a bare FastAPI endpoint, in one run.

    python benchmarks/api_cpu.py [--skus 2000] [--locations 10] [--requests 3000]
        [--profile] [--load-seconds 10] [--clients 50] [--workers 2] [--pg URL]

Two measurements over one seeded workspace (SQLite by default; ``--pg`` for PostgreSQL):

* **in process** — the ASGI app is called directly (no sockets, no HTTP parsing) for
  ``--requests`` requests per case; ``time.process_time()`` around them (all threads, so the
  route's thread-pool hop counts) divided by the requests is the app's CPU per request. The
  bare endpoint is a FastAPI app with one ``async`` route returning a fixed 10-row JSON list:
  the framework's floor. ``--profile`` prints the top functions (cProfile) of our
  ``GET /stock/{sku}``.
* **over HTTP** (``--load-seconds`` > 0) — ``stockpilot serve --workers N`` and the bare app
  under uvicorn with the same worker count, each loaded by an httpx asyncio client keeping
  ``--clients`` requests in flight; p50/p99 are client-side (send → full body), server CPU per
  request is the server processes' CPU (psutil) over the requests answered (also shown with
  the server's idle CPU rate, measured for 3 s before, taken out: on a saturated machine
  few requests get through and the idle share dominates), and peak RSS is the server's (all
  workers). The client shares the machine with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from api_load import RssSampler, free_port, load

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2024, 6, 1, tzinfo=UTC)
BARE_ROWS = [{"sku": "SKU000001", "location": f"L{j:02d}", "on_hand": 10, "reserved": 0,
              "available": 10, "on_order": 0} for j in range(10)]


def bare_app() -> Any:
    """The framework floor: one async route, a fixed body, no auth, no database."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/bare/{sku}")
    async def bare(sku: str) -> list[dict[str, Any]]:
        return BARE_ROWS

    return app


def seed(url: str, n_skus: int, n_locs: int) -> tuple[str, list[str]]:
    """Catalogue and stock rows through the bulk path; returns (viewer key, SKUs)."""
    from stockpilot.api.auth import create_key
    from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
    from stockpilot.store import schema as t
    from stockpilot.store.bulk import bulk_insert
    from stockpilot.store.db import make_engine
    from stockpilot.store.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    skus = [f"SKU{i:06d}" for i in range(n_skus)]
    locs = [f"L{j:02d}" for j in range(n_locs)]
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": s, "name": s} for s in skus])
        upsert_locations(conn, [{"location": loc} for loc in locs])
        bulk_insert(conn, t.stock, [
            {"sku": s, "location": loc, "on_hand": random.randint(1, 500), "reserved": 0,
             "on_order": 0, "allows_backorders": False, "version": 1, "updated_at": NOW}
            for loc in locs for s in skus])
    key = create_key(engine, "bench", "viewer")
    engine.dispose()
    return key, skus


async def _call(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """One GET through the ASGI interface; returns the status."""
    status = 0
    raw_path, _, query = path.partition("?")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(),
             "query_string": query.encode(), "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    await app(scope, receive, send)
    return status


def in_process(app: Any, make_path: Any, headers: list[tuple[bytes, bytes]], n: int,
               profile: bool = False) -> float:
    """CPU ms per request of ``n`` sequential requests (after 200 of warm-up)."""

    async def run(count: int) -> None:
        for _ in range(count):
            status = await _call(app, make_path(), headers)
            if status != 200:
                raise RuntimeError(f"{make_path()} answered {status}")

    asyncio.run(run(200))
    prof = cProfile.Profile() if profile else None
    cpu0 = time.process_time()
    if prof:
        prof.enable()
    asyncio.run(run(n))
    if prof:
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    return 1000 * (time.process_time() - cpu0) / n


def serve(kind: str, url: str, ws: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    """Our server (``stockpilot serve``) or the bare app under uvicorn, on loopback."""
    import httpx

    env = {**os.environ, "STOCKPILOT_RATE_LIMIT_PER_SECOND": "0",
           "PYTHONPATH": f"{ROOT / 'src'}:{ROOT / 'benchmarks'}"}
    if kind == "ours":
        cmd = [sys.executable, "-m", "stockpilot", "serve", "--host", "127.0.0.1", "--port",
               str(port), "--no-access-log", "--workers", str(workers), "-w", str(ws),
               "--db", url]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "api_cpu:bare_app", "--factory", "--host",
               "127.0.0.1", "--port", str(port), "--no-access-log", "--workers", str(workers),
               "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probe = "/health" if kind == "ours" else "/bare/x"
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


def over_http(kind: str, url: str, ws: Path, key: str, make_path: Any,
              args: argparse.Namespace) -> dict[str, float]:
    """p50/p99 (client side), server CPU ms/req and peak RSS under ``--clients``."""
    port = free_port()
    server = serve(kind, url, ws, port, args.workers)
    sampler = RssSampler(server.pid)
    sampler.start()
    try:
        base = f"http://127.0.0.1:{port}"
        asyncio.run(load(base, key, make_path, args.clients, 2.0))  # warm-up
        idle0 = sampler.cpu()
        time.sleep(3.0)  # the server's own CPU when no request comes (supervisor, GC, timers)
        idle_rate = (sampler.cpu() - idle0) / 3.0
        cpu0 = sampler.cpu()
        lat, errors = asyncio.run(load(base, key, make_path, args.clients, args.load_seconds))
        cpu = sampler.cpu() - cpu0
    finally:
        sampler.stop.set()
        server.terminate()
        server.wait(10)
    n = max(len(lat), 1)
    return {"rps": len(lat) / args.load_seconds, "p50": float(np.percentile(lat, 50)),
            "p99": float(np.percentile(lat, 99)), "cpu_ms": 1000 * cpu / n,
            "cpu_net_ms": 1000 * max(cpu - idle_rate * args.load_seconds, 0.0) / n,
            "errors": errors, "rss_mib": sampler.peak / 2**20}


def main() -> None:
    """Seed, measure in process, then over HTTP; print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skus", type=int, default=2000)
    ap.add_argument("--locations", type=int, default=10)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--load-seconds", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pg", default="", help="PostgreSQL URL of an empty database")
    args = ap.parse_args()
    random.seed(7)
    ws = Path(tempfile.mkdtemp(prefix="api-cpu-"))
    url = args.pg or f"sqlite:///{ws / 'stockpilot.db'}"
    key, skus = seed(url, args.skus, args.locations)
    n_rows = args.skus * args.locations

    from stockpilot.api.app import create_app
    from stockpilot.config import Settings
    from stockpilot.store.db import make_engine
    from stockpilot.store.history import HistoryStore

    engine = make_engine(url)
    ours = create_app(engine, HistoryStore(ws / "history"), ws,
                      Settings(rate_limit_per_second=0, workspace=ws))
    headers = [(b"x-api-key", key.encode()), (b"host", b"127.0.0.1")]
    cases = {
        "bare FastAPI GET /bare/{sku} (10 rows)": (bare_app(), lambda: "/bare/SKU000001"),
        "GET /stock/{sku} (10 rows)": (ours, lambda: f"/stock/{random.choice(skus)}"),
        "GET /stock?limit=100&offset=…": (
            ours, lambda: f"/stock?limit=100&offset={random.randrange(0, n_rows - 100)}"),
    }
    print(f"# {machine()}; {args.skus:,} SKUs × {args.locations} locations, "
          f"{'PostgreSQL' if args.pg else 'SQLite'}; load avg {os.getloadavg()[0]:.1f}")
    print("| case | app CPU ms/req (in process) |\n|---|---:|")
    for name, (app, make) in cases.items():
        profile = args.profile and name.startswith("GET /stock/{sku}")
        print(f"| {name} | {in_process(app, make, headers, args.requests, profile):.3f} |",
              flush=True)
    engine.dispose()
    if args.load_seconds <= 0:
        return
    print(f"\n{args.clients} clients, {args.workers} worker(s), {args.load_seconds:.0f} s each; "
          f"load avg {os.getloadavg()[0]:.1f}")
    print("| case | req/s | p50 ms | p99 ms | server CPU ms/req | same, idle CPU taken out "
          "| errors | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    http_cases = [("bare FastAPI GET /bare/{sku}", "bare", lambda: "/bare/SKU000001"),
                  ("GET /stock/{sku}", "ours", lambda: f"/stock/{random.choice(skus)}"),
                  ("GET /stock?limit=100&offset=…", "ours",
                   lambda: f"/stock?limit=100&offset={random.randrange(0, n_rows - 100)}")]
    for name, kind, make in http_cases:
        r = over_http(kind, url, ws, key, make, args)
        print(f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
              f"{r['cpu_ms']:.2f} | {r['cpu_net_ms']:.2f} | {r['errors']} | "
              f"{r['rss_mib']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
