"""Ledger throughput on SQLite and PostgreSQL, beside a bare executemany of the same rows.

    python benchmarks/ledger_throughput.py [--events 100000] [--skus 10000] [--single 2000]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

Cases per backend, each on a fresh database:
  * single: one event per transaction through ``apply_events`` — the durable API path
    (SQLite ``synchronous=FULL``: every commit fsyncs the WAL; PostgreSQL default fsync);
  * batched: batches of 1,000 and 10,000 events (20% receipts, 80% sales of 1–3 units over
    ``--skus`` SKUs at one location; sales that would oversell are rejected, as in life);
  * bare: the same movement rows inserted with one driver ``executemany`` in one transaction
    and nothing else (no validation, no idempotency, no stock rows) — the floor.
The ratio bare ÷ ours is the price of exactness.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.domain import commands as c
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.service import apply_events
from stockpilot.store import schema as t
from stockpilot.store.bulk import bulk_insert
from stockpilot.store.db import make_engine
from stockpilot.store.migrate import upgrade
from stockpilot.store.uow import transact

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def events(n: int, skus: int, seed: int = 7) -> list[c.LedgerCommand]:
    rng = random.Random(seed)
    out: list[c.LedgerCommand] = []
    for i in range(n):
        sku = f"S{rng.randrange(skus):05d}"
        if rng.random() < 0.2:
            out.append(c.ReceiveStock(event_id=f"e{i}", sku=sku, location="W",
                                      quantity=rng.randint(5, 20), occurred_at=NOW))
        else:
            out.append(c.RecordSale(event_id=f"e{i}", sku=sku, location="W",
                                    quantity=rng.randint(1, 3), occurred_at=NOW))
    return out


class Backend:
    def __init__(self, name: str, pg_url: str | None, tmp: Path) -> None:
        self.name, self.pg_url, self.tmp, self.admin = name, pg_url, tmp, None

    def fresh(self, skus: int):  # type: ignore[no-untyped-def]
        if self.pg_url is None:
            path = self.tmp / f"{uuid.uuid4().hex}.db"
            engine = make_engine(f"sqlite:///{path}", synchronous="FULL")
        else:
            schema = f"b_{uuid.uuid4().hex[:10]}"
            self.admin = self.admin or create_engine(self.pg_url)
            with self.admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            engine = make_engine(self.pg_url, connect_args={"options": f"-csearch_path={schema}"})
        upgrade(engine)
        with engine.begin() as conn:
            upsert_skus(conn, [{"sku": f"S{i:05d}", "name": "x"} for i in range(skus)])
            upsert_locations(conn, [{"location": "W"}])
        return engine


def run_single(engine, cmds) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for cmd in cmds:
        transact(engine, apply_events, [cmd])
    return len(cmds) / (time.perf_counter() - start)


def run_batched(engine, cmds, size: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    applied = 0
    for i in range(0, len(cmds), size):
        applied += sum(r.status == "applied" for r in transact(engine, apply_events,
                                                               cmds[i:i + size]))
    return len(cmds) / (time.perf_counter() - start), applied


def run_bare(engine, cmds) -> float:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    rows = [{"event_id": cmd.event_id, "seq": 0, "kind": 10 if cmd.kind == "receipt" else 20,
             "sku": cmd.sku, "location": cmd.location,
             "on_hand_delta": cmd.quantity if cmd.kind == "receipt" else -cmd.quantity,
             "reserved_delta": 0, "occurred_at": cmd.occurred_at, "recorded_at": now}
            for cmd in cmds]
    start = time.perf_counter()
    with engine.begin() as conn:
        bulk_insert(conn, t.movements, rows)
    return len(cmds) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--single", type=int, default=2_000)
    ap.add_argument("--pg", default=os.environ.get(
        "STOCKPILOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    cmds = events(args.events, args.skus)
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / "stockpilot-bench"
    tmp.mkdir(exist_ok=True)
    print(f"# ledger throughput — {machine()}")
    print(f"{args.events:,} events over {args.skus:,} SKUs (20% receipts, 80% sales)\n")
    print("| backend | path | events/s | bare executemany ÷ ours | notes |")
    print("|---|---|---|---|---|")
    for backend in (Backend("SQLite", None, tmp), Backend("PostgreSQL", args.pg, tmp)):
        bare = run_bare(backend.fresh(args.skus), cmds)
        print(f"| {backend.name} | bare executemany (movements only) | {bare:,.0f} | 1.0 | |")
        for size in (1_000, 10_000):
            engine = backend.fresh(args.skus)
            rate, applied = run_batched(engine, cmds, size)
            with engine.connect() as conn:
                problems = check_ledger(conn)
            print(f"| {backend.name} | batched {size:,} | {rate:,.0f} | {bare / rate:.1f} | "
                  f"{applied:,} applied, {args.events - applied:,} rejected oversells; "
                  f"checker {'clean' if not problems else 'FAILED'} |")
        engine = backend.fresh(args.skus)
        rate = run_single(engine, cmds[: args.single])
        print(f"| {backend.name} | single durable event | {rate:,.0f} | {bare / rate:.0f} | "
              f"one transaction per event |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak:,.0f} MiB")
    print(f"command: python benchmarks/ledger_throughput.py --events {args.events} "
          f"--skus {args.skus} --single {args.single}")


if __name__ == "__main__":
    main()
