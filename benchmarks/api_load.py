"""REST API under load: 30,000 SKUs × 10 locations, 50 concurrent clients, SQLite and PostgreSQL.

    python benchmarks/api_load.py [--backend sqlite|postgres|both] [--skus 30000]
        [--locations 10] [--clients 50] [--seconds 15] [--pg postgresql+psycopg://…/test]

For each backend: a fresh workspace is seeded through the bulk path (``store.bulk``: one
stock row and one opening receipt movement per SKU-location), the recommender is trained on
the vendored sample (``data/sample/online_retail_top300.csv.gz``) and its 300 items are
stocked at the first location. Then ``stockpilot serve`` runs in a subprocess on 127.0.0.1
(``--workers`` uvicorn processes, default 1; access log off, rate limit off) and an httpx
asyncio client keeps ``--clients`` requests in flight (closed loop, no think time) for
``--seconds`` per case:

  * ``GET /stock/{sku}``                         a random SKU's positions (10 rows)
  * ``GET /stock?limit=100&offset=…``            a random page of 100 positions (offset)
  * ``GET /stock?limit=100&after=…``             a random page of 100 positions (cursor)
  * ``GET /recommendations/customers/{id}``      a random trained customer at location L00

Latency is client-side (send → full body), so it includes queueing behind the other clients.
Peak RSS is the server process's, sampled every 0.1 s. "server CPU ms/req" is the server
process's CPU time during the case divided by the requests it answered: unlike latency, it
does not depend on how busy the machine is (the load average is printed with the table).
The dashboard SKU page is not in this branch, so it is not measured.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.api.auth import create_key
from stockpilot.domain.commands import ReceiveStock
from stockpilot.domain.movements import MovementKind
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store import schema as t
from stockpilot.store.bulk import bulk_insert
from stockpilot.store.db import make_engine
from stockpilot.store.migrate import upgrade
from stockpilot.store.uow import transact

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "online_retail_top300.csv.gz"
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def seed(url: str, ws: Path, n_skus: int, n_locs: int) -> tuple[str, list[str], list[str]]:
    """Catalogue, stock and movements (bulk path); returns (viewer key, SKUs, customers).

    300,000 stock rows are written with ``store.bulk.bulk_insert`` (one opening receipt
    movement per row beside it), not event by event: the ledger's own speed is
    ``benchmarks/ledger_throughput.py``'s subject, and here only the read side is measured.
    The recommender's items get real ledger receipts at the first location.
    """
    from stockpilot.ingest.online_retail import read_invoices
    from stockpilot.ingest.online_retail_import import split_lines
    from stockpilot.recommend.service import train

    engine = make_engine(url, synchronous="NORMAL")
    upgrade(engine)
    skus = [f"SKU{i:06d}" for i in range(n_skus)]
    locs = [f"L{j:02d}" for j in range(n_locs)]
    t0 = time.perf_counter()
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": s, "name": s} for s in skus])
        upsert_locations(conn, [{"location": loc} for loc in locs])
        qty = {(s, loc): random.randint(1, 500) for loc in locs for s in skus}
        bulk_insert(conn, t.stock, [
            {"sku": s, "location": loc, "on_hand": q, "reserved": 0, "on_order": 0,
             "allows_backorders": False, "version": 1, "updated_at": NOW}
            for (s, loc), q in qty.items()])
        bulk_insert(conn, t.movements, [
            {"event_id": f"seed-{s}-{loc}", "seq": 0, "kind": MovementKind.RECEIPT.value,
             "sku": s, "location": loc, "on_hand_delta": q, "reserved_delta": 0,
             "occurred_at": NOW, "recorded_at": NOW} for (s, loc), q in qty.items()])
    print(f"  seeded {len(qty):,} SKU-locations in {time.perf_counter() - t0:.1f} s",
          flush=True)
    kept, _, _ = split_lines(read_invoices(SAMPLE))
    trained = train(kept, datetime(2011, 9, 1), ws / "models" / "recommend")
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": s, "name": s} for s in trained.items])
    transact(engine, apply_events, [ReceiveStock(event_id=f"rec-{s}", sku=s, location=locs[0],
                                       quantity=random.randint(0, 3) or 1, occurred_at=NOW)
                          for s in trained.items])
    key = create_key(engine, "bench", "viewer")
    engine.dispose()
    return key, skus, trained.users


def cursor(sku: str, location: str) -> str:
    """The ``next_after`` cursor the API would give after (sku, location)."""
    return base64.urlsafe_b64encode(json.dumps([sku, location]).encode()).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, ws: Path, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    """``stockpilot serve`` on loopback; its output goes to ``<ws>/server.log``."""
    env = {**os.environ, "STOCKPILOT_RATE_LIMIT_PER_SECOND": "0",
           "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "stockpilot", "serve", "--host", "127.0.0.1", "--port",
           str(port), "--no-access-log", "--workers", str(workers), "-w", str(ws), "--db", url]
    log = (ws / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError((ws / "server.log").read_text())


class RssSampler(threading.Thread):
    """Peak RSS of a process (and its children), sampled every 0.1 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc, self.peak, self.stop = psutil.Process(pid), 0, threading.Event()

    def cpu(self) -> float:
        """CPU seconds of the process and its children (the workers) so far."""
        procs = [self.proc, *self.proc.children(recursive=True)]
        return sum(sum(p.cpu_times()[:2]) for p in procs)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                rss = self.proc.memory_info().rss + sum(
                    c.memory_info().rss for c in self.proc.children(recursive=True))
                self.peak = max(self.peak, rss)
            except psutil.Error:
                return
            time.sleep(0.1)


async def load(base: str, key: str, make_path, clients: int, seconds: float
               ) -> tuple[np.ndarray, int]:
    """Closed loop: ``clients`` tasks each sending the next request when the last returns."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, limits=limits,
                                 timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    r = await client.get(make_path())
                    errors += r.status_code != 200
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - start)

        await asyncio.gather(*[worker() for _ in range(clients)])
    return np.array(latencies) * 1000, errors


def run_backend(name: str, url: str, args: argparse.Namespace) -> list[dict[str, object]]:
    ws = Path(tempfile.mkdtemp(prefix=f"api-load-{name}-"))
    print(f"[{name}] seeding {args.skus:,} SKUs × {args.locations} locations", flush=True)
    key, skus, users = seed(url, ws, args.skus, args.locations)
    port = free_port()
    server = start_server(url, ws, port, args.workers)
    sampler = RssSampler(server.pid)
    sampler.start()
    base = f"http://127.0.0.1:{port}"
    n_rows = args.skus * args.locations
    cases = {
        "GET /stock/{sku}": lambda: f"/stock/{random.choice(skus)}",
        "GET /stock?limit=100&offset=… (random page)":
            lambda: f"/stock?limit=100&offset={random.randrange(0, n_rows - 100)}",
        "GET /stock?limit=100&after=… (cursor page)":
            lambda: f"/stock?limit=100&after={cursor(random.choice(skus), 'L00')}",
        "GET /recommendations/customers/{id}":
            lambda: f"/recommendations/customers/{random.choice(users)}?location=L00",
    }
    rows = []
    try:
        for case, make in cases.items():
            asyncio.run(load(base, key, make, args.clients, 2.0))  # warm-up
            cpu0 = sampler.cpu()
            lat, errors = asyncio.run(load(base, key, make, args.clients, args.seconds))
            cpu = sampler.cpu() - cpu0
            rows.append({"backend": name, "case": case, "requests": len(lat),
                         "rps": len(lat) / args.seconds, "p50": float(np.percentile(lat, 50)),
                         "p99": float(np.percentile(lat, 99)), "errors": errors,
                         "cpu_ms": 1000 * cpu / max(len(lat), 1),
                         "load": os.getloadavg()[0]})
            print(f"  {case}: {rows[-1]['rps']:.0f} req/s, p50 {rows[-1]['p50']:.1f} ms, "
                  f"p99 {rows[-1]['p99']:.1f} ms, errors {errors}", flush=True)
    finally:
        sampler.stop.set()
        server.terminate()
        server.wait(10)
        print(f"  server log: {ws / 'server.log'}", flush=True)
    for r in rows:
        r["peak_rss_mib"] = sampler.peak / 2**20
    return rows


def pg_database(admin_url: str) -> tuple[str, str]:
    """A fresh database on the server of ``admin_url``: (its URL, its name)."""
    from sqlalchemy import create_engine, text

    name = f"api_load_{uuid.uuid4().hex[:8]}"
    eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    eng.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}", name


def drop_pg_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--skus", type=int, default=30_000)
    ap.add_argument("--locations", type=int, default=10)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--workers", type=int, default=1, help="stockpilot serve --workers")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    random.seed(7)
    rows = []
    if args.backend in ("sqlite", "both"):
        folder = Path(tempfile.mkdtemp(prefix="api-load-db-"))
        rows += run_backend("sqlite", f"sqlite:///{folder / 'stockpilot.db'}", args)
    if args.backend in ("postgres", "both"):
        url, name = pg_database(args.pg)
        try:
            rows += run_backend("postgres", url, args)
        finally:
            drop_pg_database(args.pg, name)
    print(f"\n{machine()}; {args.skus:,} SKUs × {args.locations} locations, "
          f"{args.clients} clients, {args.seconds:.0f} s per case, {args.workers} worker(s)")
    print("| backend | case | requests | req/s | p50 ms | p99 ms | errors | server CPU ms/req "
          "| load avg | server peak RSS MiB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['backend']} | {r['case']} | {r['requests']:,} | {r['rps']:.0f} | "
              f"{r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} | {r['cpu_ms']:.2f} | "
              f"{r['load']:.1f} | {r['peak_rss_mib']:.0f} |")
    print("\ncommand: python " + " ".join(sys.argv))


if __name__ == "__main__":
    main()
