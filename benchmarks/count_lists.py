"""Cycle-count lists for a whole workspace: 30,000 SKUs × 10 locations (synthetic).

    python benchmarks/count_lists.py [--skus 30000] [--locations 10] [--sales 6]
        [--backend sqlite|postgresql] [--pg postgresql+psycopg://postgres@127.0.0.1/test]

What is timed (in a fresh process, with its peak RSS, by ``_harness.measure``): what
``stockpilot counts list --all`` and ``GET /counts/list`` do — read every stock row with its
SKU's cost, aggregate every movement per SKU-location (sales over 365 and 28 days, last sale,
last inbound, last count), read the approved count lines, and rank all SKU-locations
(:func:`stockpilot.planning.counting.rank_counts`); then the due list of one location with a
session started on it (the book frozen for its lines, inserted).

Data: ``--skus`` × ``--locations`` stock rows; per SKU a daily rate drawn log-normal (median
0.3/day, as a long-tailed catalogue), per SKU-location one receipt a year ago, ``--sales`` sale
movements spread over the last 365 days with quantities summing to about rate × 365 (the
ledger of a shop that records sales in batches), and a count 0–400 days ago on 30 % of rows.
Rows are written with the bulk writer straight into ``movements`` and ``stock`` (the ledger's
own throughput is measured in ``benchmarks/ledger_throughput.py``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy import text

from _harness import machine, measure
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.store import schema as t
from stockpilot.store.bulk import bulk_insert
from stockpilot.store.db import make_engine
from stockpilot.store.migrate import upgrade

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def build(url: str, n_skus: int, n_locs: int, n_sales: int, seed: int = 7) -> int:
    """Fill the database; returns the number of movements written."""
    rng = np.random.default_rng(seed)
    eng = make_engine(url)
    upgrade(eng)
    skus = [f"SKU{i:06d}" for i in range(n_skus)]
    locs = [f"L{j:02d}" for j in range(n_locs)]
    cost = np.round(rng.lognormal(1.5, 1.0, n_skus), 2)
    rate = rng.lognormal(np.log(0.3), 1.2, n_skus)
    with eng.begin() as conn:
        upsert_skus(conn, [{"sku": s, "unit_cost": float(c)}
                           for s, c in zip(skus, cost, strict=True)])
        upsert_locations(conn, [{"location": loc} for loc in locs])
    n = 0
    for j, loc in enumerate(locs):  # one transaction per location keeps memory flat
        stock, moves = _location_rows(rng, skus, loc, j, rate, n_sales)
        with eng.begin() as conn:
            bulk_insert(conn, t.stock, stock)
            bulk_insert(conn, t.movements, moves)
        n += len(moves)
    eng.dispose()
    return n


def _location_rows(rng: np.random.Generator, skus: list[str], loc: str, j: int,
                   rate: np.ndarray, n_sales: int) -> tuple[list[dict], list[dict]]:
    year_ago = NOW - timedelta(days=365)
    stock, moves = [], []
    for i, sku in enumerate(skus):
        sold = rng.poisson(rate[i] * 365 / n_sales, n_sales)
        on_hand = int(rng.poisson(max(rate[i] * 14, 1)))
        received = on_hand + int(sold.sum())
        base = {"sku": sku, "location": loc, "reserved_delta": 0, "lot_code": None,
                "expiry": None, "variance": None, "reference": None, "recorded_at": NOW}
        moves.append({**base, "event_id": f"r-{j}-{i}", "seq": 0, "kind": 10,
                      "on_hand_delta": received, "occurred_at": year_ago})
        days = np.sort(rng.integers(0, 365, n_sales))
        moves += [{**base, "event_id": f"s-{j}-{i}-{k}", "seq": 0, "kind": 20,
                   "on_hand_delta": -int(q), "occurred_at": year_ago + timedelta(days=int(d))}
                  for k, (q, d) in enumerate(zip(sold, days, strict=True)) if q > 0]
        if rng.random() < 0.3:
            moves.append({**base, "event_id": f"c-{j}-{i}", "seq": 0, "kind": 70,
                          "on_hand_delta": 0, "variance": 0,
                          "occurred_at": NOW - timedelta(days=int(rng.integers(0, 400)))})
        stock.append({"sku": sku, "location": loc, "on_hand": on_hand, "reserved": 0,
                      "on_order": 0, "allows_backorders": False, "version": 0})
    return stock, moves


def run_lists(url: str, location: str) -> dict[str, float | int]:
    """The timed case: the whole ranked list, then one location's due list and a session."""
    from stockpilot.planning.counting import CountPolicy, rank_counts
    from stockpilot.store.uow import reading, writing
    from stockpilot.usecases import counting
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.count_inputs import gather

    eng = make_engine(url)
    policy = CountPolicy()
    t0 = time.perf_counter()
    with reading(eng) as uow:
        inputs = gather(uow.conn, SYSTEM, NOW)  # what counting.ranked does, in two steps
        tg = time.perf_counter()
        ranked = rank_counts(inputs, policy)
    t1 = time.perf_counter()
    with writing(eng) as uow:
        sid = counting.start_session(uow, SYSTEM, location, policy, now=NOW)
        lines = len(counting.get_session(uow, SYSTEM, sid)["lines"])
    t2 = time.perf_counter()
    eng.dispose()
    return {"rows": ranked.height, "due": int(ranked["due"].sum()), "rank_s": t1 - t0,
            "gather_s": tg - t0, "pure_s": t1 - tg,
            "session_lines": lines, "session_s": t2 - t1}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skus", type=int, default=30_000)
    ap.add_argument("--locations", type=int, default=10)
    ap.add_argument("--sales", type=int, default=6, help="sale movements per SKU-location")
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "sqlite":
            url, cleanup = f"sqlite:///{tmp}/bench.db", None
        else:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = make_engine(args.pg)
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            url = f"{args.pg}?options=-csearch_path%3D{schema}"
            cleanup = (admin, schema)
        try:
            t0 = time.perf_counter()
            n_moves = build(url, args.skus, args.locations, args.sales)
            build_s = time.perf_counter() - t0
            wall, peak, res = measure(run_lists, url, "L00")
        finally:
            if cleanup:
                with cleanup[0].begin() as conn:
                    conn.execute(text(f"DROP SCHEMA {cleanup[1]} CASCADE"))
    print(f"# count lists — {machine()}, {args.backend}")
    print(f"data: {args.skus:,} SKUs × {args.locations} locations = "
          f"{args.skus * args.locations:,} stock rows, {n_moves:,} movements "
          f"(built in {build_s:.0f} s, not timed)")
    print("| step | rows | seconds |")
    print("|---|---|---|")
    print(f"| rank every SKU-location (reads + ranking) | {res['rows']:,} "
          f"({res['due']:,} due) | {res['rank_s']:.2f} |")
    print(f"| … of which the reads (stock, movements aggregated, count lines) | | "
          f"{res['gather_s']:.2f} |")
    print(f"| … of which the ranking (polars, pure) | | {res['pure_s']:.2f} |")
    print(f"| start a session at L00 (rank L00, freeze its due lines) | "
          f"{res['session_lines']:,} lines | {res['session_s']:.2f} |")
    print(f"timed process: {wall:.2f} s wall, peak RSS {peak:.0f} MiB")
    print("command: python benchmarks/count_lists.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
