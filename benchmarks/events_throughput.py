"""End-to-end stream throughput: publish → consumer → ledger commit, beside the bare ledger.

    python benchmarks/events_throughput.py [--events 100000] [--skus 30000] [--batch 2000]
        [--cases ledger-sqlite,ledger-pg,bare-pg,embedded,nats,redis,kafka-sqlite,kafka]
        [--json]

Cases (fresh database each): embedded inbox → SQLite; NATS JetStream → PostgreSQL; Redis
Streams → PostgreSQL; Kafka (``scripts/kafka.sh``'s broker) → SQLite and → PostgreSQL; the
ledger batch path (``apply_events``) on the same commands with
no stream, per database; and ``bare-pg``: the same events' movement rows inserted straight
through psycopg (no stockpilot code: ``executemany`` and ``COPY``), the floor any ledger path
is measured against. Events: 70% receipts, 30% sales over ``--skus`` SKUs. The consumer
rate is measured from its first fetch to the last commit (publishing is timed separately);
for Kafka, whose group join takes seconds before the first fetch, from the end of the first
batch to the end of the last (the first batch's events not counted).
``benchmarks/stream_ab.py`` runs this script on two versions of the code side by side.
"""

from __future__ import annotations

import argparse
import inspect
import json
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
from stockpilot.events import embedded, kafka, nats_js, redis_streams
from stockpilot.events.schema import dump
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store.db import make_engine
from stockpilot.store.migrate import upgrade
from stockpilot.store.uow import transact

PG = os.environ.get("STOCKPILOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def commands(n: int, skus: int) -> list[c.LedgerCommand]:
    rng = random.Random(3)
    now = datetime(2024, 6, 1, tzinfo=UTC)
    out: list[c.LedgerCommand] = []
    for i in range(n):
        sku = f"S{rng.randrange(skus):05d}"
        cls = c.ReceiveStock if rng.random() < 0.7 else c.RecordSale
        out.append(cls(event_id=f"e{i}", sku=sku, location="W", quantity=rng.randint(1, 5),
                       occurred_at=now))
    return out


def fresh(kind: str, skus: int, tmp: Path):  # type: ignore[no-untyped-def]
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp / (uuid.uuid4().hex + '.db')}")
    else:
        schema = f"e_{uuid.uuid4().hex[:10]}"
        with create_engine(PG).begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine = make_engine(PG, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": f"S{i:05d}", "name": "x"} for i in range(skus)])
        upsert_locations(conn, [{"location": "W"}])
    return engine


def bare_pg(cmds: list[c.LedgerCommand], batch: int, tmp: Path) -> list[tuple[str, str, float]]:
    """Movement rows straight through psycopg, per batch: executemany, then COPY."""
    import psycopg

    engine = fresh("postgres", 1, tmp)
    with engine.connect() as conn:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
    engine.dispose()
    now = datetime.now(UTC)
    rows = [(x.event_id, 0, 10 if isinstance(x, c.ReceiveStock) else 20, x.sku, x.location,
             x.quantity if isinstance(x, c.ReceiveStock) else -x.quantity, 0, x.occurred_at,
             now) for x in cmds]
    cols = ("event_id, seq, kind, sku, location, on_hand_delta, reserved_delta, occurred_at, "
            "recorded_at")
    out = []
    with psycopg.connect(PG.replace("postgresql+psycopg", "postgresql"),
                         options=f"-csearch_path={schema}") as pg:
        t0 = time.perf_counter()
        for i in range(0, len(rows), batch):
            with pg.transaction(), pg.cursor() as cur:
                cur.executemany(f"INSERT INTO movements ({cols}) VALUES "
                                "(%s, %s, %s, %s, %s, %s, %s, %s, %s)", rows[i:i + batch])
        out.append(("bare executemany → postgres (movements only)", "",
                    len(rows) / (time.perf_counter() - t0)))
        pg.execute("TRUNCATE movements")
        pg.commit()
        t0 = time.perf_counter()
        for i in range(0, len(rows), batch):
            with pg.transaction(), pg.cursor() as cur, cur.copy(
                    f"COPY movements ({cols}) FROM STDIN") as copy:
                for row in rows[i:i + batch]:
                    copy.write_row(row)
        out.append(("bare COPY → postgres (movements only)", "",
                    len(rows) / (time.perf_counter() - t0)))
    return out


def kafka_case(db: str, msgs: list[tuple[str, bytes]], skus: int, batch: int,
               tmp: Path) -> tuple[str, str, float]:
    """Kafka → ``db``: keyed publish, then one consumer of a fresh group drains the topic."""
    engine = fresh(db, skus, tmp)
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    kafka.ensure_topic(None, topic)
    t0 = time.perf_counter()
    kafka.publish(None, msgs, topic=topic)
    pub = time.perf_counter() - t0
    done: list[tuple[float, int]] = []
    res = kafka.consume(engine, None, batch=batch, idle_exit=1.0, topic=topic,
                        group=f"bench-{topic}",
                        on_batch=lambda r: done.append((time.perf_counter(), r.applied)))
    kafka.delete_topic(None, topic)
    assert res.applied + res.dead == len(msgs), res
    rate = sum(n for _, n in done[1:]) / (done[-1][0] - done[0][0])
    return (f"Kafka → {db}", f"{len(msgs) / pub:,.0f}", rate)


CASES = ("ledger-sqlite", "ledger-pg", "bare-pg", "embedded", "nats", "redis", "kafka-sqlite",
         "kafka")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--skus", type=int, default=30_000)
    ap.add_argument("--batch", type=int, default=2_000)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--json", action="store_true", help="One JSON line of rows (for stream_ab)")
    args = ap.parse_args()
    cases = args.cases.split(",")
    tmp = Path("/tmp/stockpilot-events-bench")
    tmp.mkdir(exist_ok=True)
    cmds = commands(args.events, args.skus)
    msgs = [(x.event_id, dump(x)) for x in cmds]
    rows = []
    for db, case in (("sqlite", "ledger-sqlite"), ("postgres", "ledger-pg")):
        if case not in cases:
            continue
        engine = fresh(db, args.skus, tmp)
        t0 = time.perf_counter()
        for i in range(0, len(cmds), args.batch):
            transact(engine, apply_events, cmds[i:i + args.batch])
        rows.append((f"ledger batch path → {db}", "", len(cmds) / (time.perf_counter() - t0)))
    if "bare-pg" in cases:
        rows += bare_pg(cmds, args.batch, tmp)
    if "embedded" in cases:
        engine = fresh("sqlite", args.skus, tmp)
        t0 = time.perf_counter()
        embedded.publish(engine, msgs)
        pub = time.perf_counter() - t0
        t0 = time.perf_counter()
        while embedded.consume_once(engine, args.batch):
            pass
        rows.append(("embedded inbox → sqlite", f"{len(msgs) / pub:,.0f}",
                     len(msgs) / (time.perf_counter() - t0)))
    for key, name, bus, url in (("nats", "NATS JetStream", nats_js, "nats://127.0.0.1:4222"),
                                ("redis", "Redis Streams", redis_streams,
                                 "redis://127.0.0.1:6379/0")):
        if key not in cases:
            continue
        engine = fresh("postgres", args.skus, tmp)
        # our own stream where the code supports it: parallel runs on the server do not collide
        own = ({"stream": f"BENCH_{uuid.uuid4().hex[:8].upper()}"}
               if "stream" in inspect.signature(bus.publish).parameters else {})
        bus.reset(url, **own)
        t0 = time.perf_counter()
        bus.publish(url, msgs, **own)
        pub = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = bus.consume(engine, url, batch=args.batch, idle_exit=1.0, **own)
        wall = time.perf_counter() - t0 - 1.0  # minus the final idle wait
        assert res.applied + res.dead == len(msgs), res
        rows.append((f"{name} → postgres", f"{len(msgs) / pub:,.0f}", len(msgs) / wall))
        bus.reset(url, **own)
    for key, db in (("kafka-sqlite", "sqlite"), ("kafka", "postgres")):
        if key in cases:
            rows.append(kafka_case(db, msgs, args.skus, args.batch, tmp))
    if args.json:
        print(json.dumps(rows))
        return
    print(f"# stream throughput, {args.events:,} events, {args.skus:,} SKUs, batch "
          f"{args.batch:,} — {machine()}")
    print("| path | publish events/s | apply events/s |")
    print("|---|---|---|")
    for name, pub_rate, rate in rows:
        print(f"| {name} | {pub_rate} | {rate:,.0f} |")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"command: python benchmarks/events_throughput.py --events {args.events} --skus "
          f"{args.skus} --batch {args.batch} --cases {args.cases}")


if __name__ == "__main__":
    main()
