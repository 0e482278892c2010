"""SKU dashboard page under load: p50/p99 latency with N concurrent signed-in clients.

Builds (once, reused when present) a workspace with 30,000 SKUs × 10 locations = 300,000
series: stock rows and one receipt movement each, a 28-day quantile forecast per series
(8.4 M rows), a plan row per series and 90 days of sparse daily demand, plus one planner
user. Serves it with uvicorn on a free loopback port in a subprocess (one worker, as
``stockpilot serve`` does), signs in, warms the page caches, then runs the clients, each
requesting random ``/ui/sku/<sku>?location=<loc>`` pages back to back.

    python benchmarks/web_load.py [--skus 30000 --locations 10 --clients 50 --requests 4000]
        [--db postgresql+psycopg://postgres@127.0.0.1:5432/bench] [--workspace /tmp/web-bench]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

PASSWORD = "benchmark-password"


def build(ws: Path, db: str | None, n_skus: int, n_locs: int) -> None:
    from stockpilot.config import load_settings
    from stockpilot.forecast.base import QUANTILES, qcol
    from stockpilot.store import schema as t
    from stockpilot.store.bulk import bulk_insert
    from stockpilot.store.db import make_engine
    from stockpilot.store.history import HistoryStore
    from stockpilot.store.migrate import upgrade
    from stockpilot.web.users import create_user

    settings = load_settings(ws, db_url=db)
    engine = make_engine(settings.resolved_db_url(), synchronous="NORMAL")
    upgrade(engine)
    now = datetime.now(UTC)
    skus = [f"S{i:06d}" for i in range(n_skus)]
    locs = [f"L{j:02d}" for j in range(n_locs)]
    rng = np.random.default_rng(1)
    on_hand = rng.integers(0, 500, n_skus * n_locs)
    with engine.begin() as conn:
        bulk_insert(conn, t.skus, [{"sku": s, "name": f"item {s}", "unit_cost": 2.0,
                                    "price": 5.0, "lot_tracked": False, "created_at": now}
                                   for s in skus])
        bulk_insert(conn, t.locations, [{"location": loc, "name": loc, "kind": "warehouse",
                                         "allows_backorders": False, "created_at": now}
                                        for loc in locs])
        pairs = [(s, loc) for s in skus for loc in locs]
        bulk_insert(conn, t.stock, [{"sku": s, "location": loc, "on_hand": int(q),
                                     "reserved": 0, "on_order": 0, "allows_backorders": False,
                                     "version": 1, "updated_at": now}
                                    for (s, loc), q in zip(pairs, on_hand, strict=True)])
        bulk_insert(conn, t.movements, [{"event_id": f"r-{s}-{loc}", "seq": 0, "kind": 10,
                                         "sku": s, "location": loc, "on_hand_delta": int(q),
                                         "reserved_delta": 0, "occurred_at": now,
                                         "recorded_at": now}
                                        for (s, loc), q in zip(pairs, on_hand, strict=True)])
    create_user(engine, "bench", PASSWORD, "planner")
    history = HistoryStore(settings.resolved_history_dir())
    sku_col = np.repeat(np.array(skus), n_locs)
    loc_col = np.tile(np.array(locs), n_skus)
    series = pl.DataFrame({"sku": sku_col, "location": loc_col}).with_columns(
        (pl.col("sku") + "@" + pl.col("location")).alias("unique_id"))
    origin = date(2024, 6, 30)
    level = rng.gamma(1.0, 4.0, len(series))
    fc = series.join(pl.DataFrame({"ds": [origin + timedelta(days=h) for h in range(1, 29)]}),
                     how="cross").with_columns(
        pl.Series("mean", np.repeat(level, 28)))
    fc = fc.with_columns([(pl.col("mean") * (0.2 + 1.6 * q)).alias(qcol(q)) for q in QUANTILES])
    history.write("forecasts", "latest", fc)
    plan = series.with_columns(
        pl.lit("SUP").alias("supplier"), pl.lit("AX").alias("klass"),
        pl.lit(0.95).alias("service_level"), pl.lit(14).alias("protection_days"),
        pl.Series("order_up_to", np.ceil(level * 20).astype(np.int64)),
        pl.Series("reorder_point", np.ceil(level * 9).astype(np.int64)),
        pl.Series("order_qty", np.maximum(0, np.ceil(level * 20) - on_hand).astype(np.int64)),
        pl.lit(1.0).alias("order_value"),
        pl.lit("P50 demand over lead time + review (14 d) …").alias("reason")).drop(
        "sku", "location")
    history.write("plans", "latest", plan)
    days = 90
    keep = rng.random(len(series) * days) < 0.3
    daily = pl.DataFrame({
        "sku": np.repeat(sku_col, days)[keep], "location": np.repeat(loc_col, days)[keep],
        "date": np.tile(np.array([origin - timedelta(days=d) for d in range(days)],
                                 dtype="datetime64[D]"), len(series))[keep],
        "units": rng.poisson(np.repeat(level, days)[keep]).astype(np.int32) + 1})
    history.write_daily("bench", daily)
    (ws / "built").write_text(f"{n_skus} {n_locs}\n")


SERVER = """
import os, sys, uvicorn
from stockpilot.cli.common import workspace
from stockpilot.api.app import create_app
w = workspace(__import__('pathlib').Path(sys.argv[1]), sys.argv[3] or None)
uvicorn.run(create_app(w.engine, w.history), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning", backlog=4096)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run_load(base: str, n_skus: int, n_locs: int, clients: int, total: int
                   ) -> tuple[list[float], int]:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        page = await c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = await c.post("/login", data={"username": "bench", "password": PASSWORD,
                                         "csrf_token": token})
        cookie = c.cookies.get("sp_session")
        assert cookie and r.status_code == 303, r.status_code
    rng = np.random.default_rng(2)
    targets = [(f"S{rng.integers(n_skus):06d}", f"L{rng.integers(n_locs):02d}")
               for _ in range(total)]
    lat: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits,
                                 cookies={"sp_session": cookie}) as c:
        async def one(sku: str, loc: str) -> None:
            nonlocal errors
            t0 = time.perf_counter()
            r = await c.get(f"/ui/sku/{sku}", params={"location": loc})
            lat.append(time.perf_counter() - t0)
            if r.status_code != 200 or 'id="chart-data"' not in r.text:
                errors += 1

        for i in range(0, 200):  # warm-up: build the caches, open connections
            await one(*targets[i % len(targets)])
        lat.clear()
        queue = iter(targets)

        async def worker() -> None:
            for sku, loc in queue:
                await one(sku, loc)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return lat, errors


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=30_000)
    ap.add_argument("--locations", type=int, default=10)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--db", default="")
    ap.add_argument("--workspace", type=Path, default=Path("/tmp/web-bench"))
    args = ap.parse_args()
    ws = args.workspace
    ws.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if not (ws / "built").exists():
        build(ws, args.db or None, args.skus, args.locations)
        print(f"built workspace in {time.perf_counter() - t0:.0f} s")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(ws), str(port), args.db],
                              env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.2)
        t1 = time.perf_counter()
        lat, errors = asyncio.run(run_load(base, args.skus, args.locations, args.clients,
                                           args.requests))
        wall = time.perf_counter() - t1
    finally:
        server.terminate()
        server.wait(10)
    ms = np.array(lat) * 1000
    backend = "PostgreSQL" if args.db else "SQLite"
    print(f"\nSKU page /ui/sku/<sku>?location=<loc>, {args.skus:,} SKUs × {args.locations} "
          f"locations, {backend}, {args.clients} clients, {len(ms):,} requests")
    print("| p50 ms | p90 ms | p99 ms | max ms | req/s | errors |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {np.percentile(ms, 50):.1f} | {np.percentile(ms, 90):.1f} | "
          f"{np.percentile(ms, 99):.1f} | {ms.max():.1f} | {len(ms) / wall:.0f} | {errors} |")
    print("command: python benchmarks/web_load.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
