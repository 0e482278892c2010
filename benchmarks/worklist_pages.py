"""Dashboard worklist pages: p50/p95 latency and peak memory, demo-sized and 30,000 × 10.

Builds (once, reused when present) the synthetic workspace of ``web_load.py`` (30,000 SKUs ×
10 locations = 300,000 series: stock, a receipt each, a 28-day quantile forecast, a plan row
each, sparse daily demand) plus ``--alerts`` open alerts, then, in a fresh process, signs in
through the app in-process (no network) and requests each list page ``--repeat`` times:
the SKU list (default urgency sort), filtered + sorted, a later page, the alerts list, the
overstock list, the suggestions list and the SKU list's CSV export. The first request of
each page (cold caches) is reported apart.

    python benchmarks/worklist_pages.py [--skus 30000 --locations 10 --repeat 15]
        [--db postgresql+psycopg://postgres@127.0.0.1:5432/bench] [--workspace /tmp/wl-bench]

    stockpilot demo -w /tmp/wl-demo --no-serve          # the demo workspace, then:
    python benchmarks/worklist_pages.py --existing --workspace /tmp/wl-demo
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _harness import machine, measure
from web_load import PASSWORD, build

PAGES = {
    "skus (urgency)": "/ui/lists/skus",
    "skus filtered+sorted": "/ui/lists/skus?location=L03&status=reorder&sort=-stock_value",
    "skus text search": "/ui/lists/skus?q=S0012",
    "skus page 100": "/ui/lists/skus?offset=4950",
    "alerts": "/ui/alerts",
    "overstock": "/ui/lists/overstock",
    "suggestions": "/ui/lists/suggestions",
    "overview (cards)": "/",
    "skus CSV export (all rows)": "/ui/lists/skus/export?format=csv",
}


def add_alerts(ws: Path, db: str | None, n: int) -> None:
    from stockpilot.alerts.rules import Finding
    from stockpilot.alerts.service import raise_alerts
    from stockpilot.cli.common import workspace

    w = workspace(ws, db)
    rng = np.random.default_rng(3)
    found = [Finding("projected_stockout" if i % 3 else "low_stock",
                     f"S{rng.integers(30000):06d}", f"L{rng.integers(10):02d}",
                     "critical" if i % 3 else "warning", "benchmark") for i in range(n)]
    raise_alerts(w.engine, found)


def add_user(ws: Path, db: str | None) -> None:
    from stockpilot.cli.common import workspace
    from stockpilot.web.users import authenticate, create_user

    w = workspace(ws, db)
    if authenticate(w.engine, "bench", PASSWORD) is None:
        create_user(w.engine, "bench", PASSWORD, "planner")


def run(ws: str, db: str | None, repeat: int) -> dict[str, tuple[float, float, float, int]]:
    from fastapi.testclient import TestClient

    from stockpilot.api.app import create_app
    from stockpilot.cli.common import workspace

    w = workspace(Path(ws), db)
    c = TestClient(create_app(w.engine, w.history, Path(ws), w.settings),
                   base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"username": "bench", "password": PASSWORD,
                               "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.status_code
    out = {}
    for name, url in PAGES.items():
        times = []
        size = 0
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            resp = c.get(url)
            times.append(time.perf_counter() - t0)
            assert resp.status_code == 200, (url, resp.status_code)
            size = len(resp.content)
        warm = np.array(times[1:]) * 1000
        out[name] = (times[0] * 1000, float(np.percentile(warm, 50)),
                     float(np.percentile(warm, 95)), size)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=30_000)
    ap.add_argument("--locations", type=int, default=10)
    ap.add_argument("--alerts", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--db", default=None)
    ap.add_argument("--workspace", default="/tmp/wl-bench")
    ap.add_argument("--existing", action="store_true",
                    help="measure an existing workspace (e.g. the demo's); adds the user")
    a = ap.parse_args()
    ws = Path(a.workspace)
    ws.mkdir(parents=True, exist_ok=True)
    if a.existing:
        add_user(ws, a.db)
    elif not (ws / "built").exists():
        t0 = time.perf_counter()
        build(ws, a.db, a.skus, a.locations)
        add_alerts(ws, a.db, a.alerts)
        print(f"built {a.skus} × {a.locations} in {time.perf_counter() - t0:.0f} s")
    wall, peak, res = measure(run, str(ws), a.db, a.repeat)
    size = "existing workspace " + a.workspace if a.existing else \
        f"{a.skus:,} SKUs × {a.locations} locations"
    print(f"# {machine()}; {size}, "
          f"{'PostgreSQL' if a.db and a.db.startswith('postgres') else 'SQLite'}, "
          f"{a.repeat} warm requests per page; peak RSS {peak:,.0f} MiB; {wall:.0f} s")
    print("| page | first (ms) | p50 (ms) | p95 (ms) | bytes |")
    print("|---|---:|---:|---:|---:|")
    for name, (first, p50, p95, size) in res.items():
        print(f"| {name} | {first:,.0f} | {p50:,.0f} | {p95:,.0f} | {size:,} |")
    print(f"\n    python benchmarks/{Path(__file__).name} "
          + ("--existing " if a.existing else f"--skus {a.skus} --locations {a.locations} ")
          + f"--repeat {a.repeat}"
          + (f" --db {a.db}" if a.db else "") + f" --workspace {a.workspace}")


if __name__ == "__main__":
    main()
