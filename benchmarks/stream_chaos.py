"""Chaos at full size: kill -9 the consumer three times mid-stream, restart, drain, check.

    python benchmarks/stream_chaos.py [--events 100000] [--skus 1000]
        [--sources nats,redis,embedded,kafka]

For each source: publish ``--events`` distinct receipts over ``--skus`` SKUs with 10% of the
messages sent twice by the publisher (shuffled in), run the real ``stockpilot stream``
process, SIGKILL it when it has applied ~20%, ~45% and ~70% of the events, restart it after
each kill, and let the last run drain. Then every SKU-location's on_hand must equal the sum
of its distinct receipts exactly, the ledger must hold each event once, and the invariant
checker must be clean. NATS, Redis and Kafka feed PostgreSQL (a fresh database per run), the
embedded queue feeds SQLite.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.domain.commands import ReceiveStock
from stockpilot.events import embedded, kafka, nats_js, redis_streams
from stockpilot.events.schema import dump
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.positions import get_positions
from stockpilot.store import schema as t
from stockpilot.store.db import make_engine
from stockpilot.store.migrate import upgrade

PG = os.environ.get("STOCKPILOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
URLS = {"nats": "nats://127.0.0.1:4222", "redis": "redis://127.0.0.1:6379/0",
        "kafka": kafka.DEFAULT_BOOTSTRAP}


def workload(n: int, skus: int, seed: int = 11):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    now = datetime(2024, 6, 1, tzinfo=UTC)
    events = [ReceiveStock(event_id=f"c{i}", sku=f"K{rng.randrange(skus):05d}", location="W",
                           quantity=rng.randint(1, 9), occurred_at=now) for i in range(n)]
    msgs = [(e.event_id, dump(e)) for e in events]
    stream = msgs + rng.sample(msgs, n // 10)
    rng.shuffle(stream)
    expected: dict[str, int] = {}
    for e in events:
        expected[e.sku] = expected.get(e.sku, 0) + e.quantity
    return stream, expected


def database(source: str, tmp: Path) -> str:
    if source == "embedded":
        return f"sqlite:///{tmp / (uuid.uuid4().hex + '.db')}"
    name = f"chaos_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return PG.rsplit("/", 1)[0] + f"/{name}"


def applied(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect().execution_options(readonly=True) as conn:
        return conn.execute(select(func.count()).select_from(t.ledger_events)).scalar_one()


def run(source: str, n: int, skus: int, batch: int, tmp: Path) -> dict:  # type: ignore[type-arg]
    url = database(source, tmp)
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": f"K{i:05d}", "name": "k"} for i in range(skus)])
        upsert_locations(conn, [{"location": "W"}])
    stream, expected = workload(n, skus)
    name = f"CHAOS_{uuid.uuid4().hex[:8].upper()}"
    if source == "embedded":
        embedded.publish(engine, stream)
    elif source == "kafka":  # a topic and a group of its own
        kafka.publish(URLS[source], stream, topic=name)
    else:
        bus = nats_js if source == "nats" else redis_streams
        bus.reset(URLS[source], name)
        bus.publish(URLS[source], stream, stream=name)
    cmd = [sys.executable, "-m", "stockpilot", "stream", "--source", source, "--batch",
           str(batch), "--idle-exit", "3", "--db", url, "--stream-name", name,
           "-w", str(tmp)]
    if source != "embedded":
        cmd += ["--url", URLS[source]]
    if source == "kafka":
        cmd += ["--group", f"chaos-{name}"]
    env = {**os.environ, "STOCKPILOT_SQLITE_SYNCHRONOUS": "NORMAL"}
    t0 = time.perf_counter()
    kills = []
    for share in (0.20, 0.45, 0.70):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env)
        while applied(engine) < share * n and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills.append(applied(engine))
        if source in ("nats", "redis"):  # Kafka: the next member's join waits for the group
            time.sleep(nats_js.ACK_WAIT_S + 0.5)  # the dead consumer's unacked batch returns
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    with engine.connect() as conn:
        on_hand = {p.sku: p.on_hand for p in get_positions(conn)}
        events = conn.execute(select(func.count()).select_from(t.ledger_events)).scalar_one()
        problems = check_ledger(conn)
    wrong = sum(on_hand.get(k, 0) != v for k, v in expected.items())
    if source == "kafka":
        kafka.delete_topic(URLS[source], name)
    elif source != "embedded":
        (nats_js if source == "nats" else redis_streams).reset(URLS[source], name)
    engine.dispose()
    return {"source": source, "messages": len(stream), "kills_at": kills, "events": events,
            "wrong": wrong, "problems": len(problems), "wall": wall,
            "ok": wrong == 0 and events == n and not problems and
            set(on_hand) == set(expected)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--skus", type=int, default=1_000)
    ap.add_argument("--batch", type=int, default=1_000)
    ap.add_argument("--sources", default="nats,redis,embedded")
    args = ap.parse_args()
    tmp = Path("/tmp/stockpilot-chaos-bench")
    tmp.mkdir(exist_ok=True)
    rows = [run(s, args.events, args.skus, args.batch, tmp) for s in args.sources.split(",")]
    print(f"# chaos: {args.events:,} events (+10% duplicates), {args.skus:,} SKUs, 3 × kill -9 "
          f"— {machine()}")
    print("| source → store | messages | applied at each kill | events in ledger | "
          "SKU-locations off | checker | wall s | result |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        store = "SQLite" if r["source"] == "embedded" else "PostgreSQL"
        print(f"| {r['source']} → {store} | {r['messages']:,} | "
              f"{', '.join(f'{k:,}' for k in r['kills_at'])} | {r['events']:,} | {r['wrong']} | "
              f"{'clean' if not r['problems'] else r['problems']} | {r['wall']:.0f} | "
              f"{'PASS' if r['ok'] else 'FAIL'} |")
    print(f"\ncommand: python benchmarks/stream_chaos.py --events {args.events} --skus "
          f"{args.skus} --batch {args.batch} --sources {args.sources}")


if __name__ == "__main__":
    main()
