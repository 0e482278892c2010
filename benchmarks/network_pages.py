"""Network dashboard pages: p50/p95 of /ui/network (map) and /ui/network?dc= (routes).

In process (FastAPI TestClient, one signed-in client, requests back to back), on a SQLite
workspace with a DC and ``--stores`` stores around Birmingham, one SKU with 100,000 units at
the DC and a plan wanting 40–400 units at each store. The map page reads the sites; the
routes page allocates the DC's stock (the transfer LP), routes it with PyVRP for 2 s on the
first request and serves the kept answer afterwards (the page keeps routes 5 minutes per DC
and plan). So the table shows the map page, the routes page's first (solving) request, and
the routes page warm.

    python benchmarks/network_pages.py [--stores 50] [--requests 200]
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine

PASSWORD = "benchmark-password"


def build(root: Path, n_stores: int) -> object:
    from stockpilot.api.app import create_app
    from stockpilot.config import Settings
    from stockpilot.domain.commands import ReceiveStock
    from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
    from stockpilot.ledger.service import apply_events
    from stockpilot.store.db import make_engine
    from stockpilot.store.history import HistoryStore
    from stockpilot.store.migrate import upgrade
    from stockpilot.store.uow import transact
    from stockpilot.usecases.network import upsert_sites
    from stockpilot.web.users import create_user

    engine = make_engine(f"sqlite:///{root / 'db.sqlite'}")
    upgrade(engine)
    rng = np.random.default_rng(3)
    stores = [f"S{i:03d}" for i in range(n_stores)]
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "A", "price": 5}])
        upsert_locations(conn, [{"location": "DC", "kind": "warehouse"}]
                         + [{"location": s, "kind": "store"} for s in stores])
        upsert_sites(conn, [{"location": "DC", "latitude": 52.48, "longitude": -1.89}]
                     + [{"location": s, "latitude": 52.48 + rng.uniform(-1.5, 1.5),
                         "longitude": -1.89 + rng.uniform(-2, 2)} for s in stores])
    transact(engine, apply_events,
             [ReceiveStock(event_id="r", sku="A", location="DC", quantity=100_000,
                           occurred_at=datetime(2024, 1, 1, tzinfo=UTC))])
    history = HistoryStore(root / "history")
    history.write("plans", "latest", pl.DataFrame({
        "unique_id": [f"A@{s}" for s in stores],
        "order_up_to": rng.integers(40, 400, n_stores), "inventory_position": [0] * n_stores}))
    create_user(engine, "bench", PASSWORD, "planner")
    from stockpilot.config import RoutingSettings

    settings = Settings(rate_limit_per_second=0,
                        routing=RoutingSettings(vehicles=max(5, n_stores // 2),
                                                capacity_units=1500, shift_hours=12))
    return create_app(engine, history, root, settings)


def timed(client: object, path: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        res = client.get(path)  # type: ignore[attr-defined]
        out.append(time.perf_counter() - t0)
        assert res.status_code == 200, res.text[:300]
    return out


def main() -> None:
    from fastapi.testclient import TestClient

    ap = argparse.ArgumentParser()
    ap.add_argument("--stores", type=int, default=50)
    ap.add_argument("--requests", type=int, default=200)
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="network-pages-"))
    client = TestClient(build(root, a.stores), base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": "bench", "password": PASSWORD,
                                "csrf_token": token, "next": "/"})
    timed(client, "/ui/network", 5)  # warm templates and imports
    rows = [("map (/ui/network)", timed(client, "/ui/network", a.requests))]
    cold = timed(client, "/ui/network?dc=DC", 1)
    page = client.get("/ui/network?dc=DC").text
    assert "Routes from DC" in page, page[:500]
    rows.append(("routes, first request (allocate + solve 2 s)", cold))
    rows.append(("routes, warm (kept answer)", timed(client, "/ui/network?dc=DC", a.requests)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# {machine()}; command: python benchmarks/network_pages.py "
          f"{' '.join(sys.argv[1:])}; peak RSS {peak:,.0f} MiB")
    print("| page | requests | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, t in rows:
        ms = np.array(t) * 1000
        print(f"| {name} | {len(t)} | {np.percentile(ms, 50):.1f} | "
              f"{np.percentile(ms, 95):.1f} | {ms.max():.1f} |")


if __name__ == "__main__":
    main()
