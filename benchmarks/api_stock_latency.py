"""CPU per ``GET /stock/{sku}`` through the whole app in process (no network), and peak RSS.

Run the same script against two source trees to compare them in one run, e.g. before/after a
change to request handling::

    for i in 1 2; do for src in /work/main/src src; do
      PYTHONPATH=$src python benchmarks/api_stock_latency.py; done; done

It builds a small SQLite workspace (one SKU at two locations, a viewer key), warms up, then
times ``N`` requests: process CPU per request (what the server spends) and wall p50/p99.
"""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

N = 2000


def main() -> None:
    """Print one table row: source tree, CPU ms/request, p50/p99 ms, peak RSS MB."""
    from fastapi.testclient import TestClient

    import stockpilot
    from stockpilot.api.app import create_app
    from stockpilot.api.auth import create_key
    from stockpilot.config import Settings
    from stockpilot.domain.commands import ReceiveStock
    from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
    from stockpilot.ledger.service import apply_events
    from stockpilot.store.db import make_engine
    from stockpilot.store.history import HistoryStore
    from stockpilot.store.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/b.db")
        upgrade(engine)
        with engine.begin() as conn:
            upsert_skus(conn, [{"sku": "A", "name": "a"}])
            upsert_locations(conn, [{"location": "S"}, {"location": "W"}])
        apply_events(engine, [ReceiveStock(event_id=f"r{loc}", sku="A", location=loc,
                                           quantity=5, occurred_at=datetime.now(UTC))
                              for loc in ("S", "W")])
        key = create_key(engine, "bench", "viewer")
        app = create_app(engine, HistoryStore(Path(tmp) / "h"), None,
                         Settings(rate_limit_per_second=0))
        with TestClient(app) as client:
            h = {"X-API-Key": key}
            for _ in range(200):
                assert client.get("/stock/A", headers=h).status_code == 200
            walls = []
            cpu0 = time.process_time()
            for _ in range(N):
                t0 = time.perf_counter()
                client.get("/stock/A", headers=h)
                walls.append(time.perf_counter() - t0)
            cpu = (time.process_time() - cpu0) / N
    q = statistics.quantiles(walls, n=100)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    src = str(Path(stockpilot.__file__).parents[1])
    print(f"| {src} | {cpu * 1e3:.3f} | {q[49] * 1e3:.2f} | {q[98] * 1e3:.2f} | {rss:.0f} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
