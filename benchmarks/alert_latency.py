"""Latency from publishing an event to the alert it causes, at a steady event rate.

    python benchmarks/alert_latency.py [--rate 1000] [--seconds 30]
        [--sources embedded,nats,kafka]

A real ``stockpilot stream --alerts`` process consumes (embedded queue → SQLite, NATS JetStream
→ PostgreSQL, Kafka → PostgreSQL) while this script publishes ``--rate`` events/s in 50 ms
ticks for ``--seconds``:
receipts and sales of 1–3 units over 2,000 SKUs that stay well stocked, plus — ten times a
second — one "trigger" sale that takes a fresh SKU from 60 units to 4, below its reorder point
(10) and to 2 days of cover against a 7-day lead time. For each trigger: publish time (taken
just before the publish call) → the alert row's ``created_at`` (low_stock), and → the signed
webhook's arrival at a local receiver. p50/p99/max over all triggers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import polars as pl
from sqlalchemy import create_engine, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.domain import commands as c
from stockpilot.events import embedded, kafka, nats_js
from stockpilot.events.schema import dump
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store import schema_events as te
from stockpilot.store.db import make_engine
from stockpilot.store.history import HistoryStore
from stockpilot.store.migrate import upgrade
from stockpilot.store.uow import transact

PG = os.environ.get("STOCKPILOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NATS = "nats://127.0.0.1:4222"
SKUS, TRIGGERS_PER_S, TICK_S = 2000, 10, 0.05


class _Hook(BaseHTTPRequestHandler):
    arrived: ClassVar[dict[str, float]] = {}

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["rule"] == "low_stock":
            _Hook.arrived.setdefault(body["sku"], time.time())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def setup(source: str, ws: Path, n_triggers: int) -> str:
    if source == "embedded":
        url = f"sqlite:///{ws / 'stockpilot.db'}"
    else:
        name = f"lat_{uuid.uuid4().hex[:10]}"
        with create_engine(PG, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        url = PG.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    names = [f"S{i:05d}" for i in range(SKUS)] + [f"T{i:05d}" for i in range(n_triggers)]
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": s, "name": s} for s in names])
        upsert_locations(conn, [{"location": "W"}])
    now = datetime.now(UTC)
    transact(engine, apply_events, [c.ReceiveStock(event_id=f"open-{s}", sku=s, location="W",
                                                   quantity=60, occurred_at=now) for s in names])
    engine.dispose()
    hs = HistoryStore(ws / "history")
    uids = [f"{s}@W" for s in names]
    hs.write("plans", "latest", pl.DataFrame({"unique_id": uids, "reorder_point": [10] * len(uids),
                                              "protection_days": [14] * len(uids)}))
    hs.write("forecasts", "latest", pl.DataFrame({
        "unique_id": uids, "ds": [now.date() + timedelta(days=1)] * len(uids),
        "mean": [2.0] * len(uids)}))
    return url


def ticks(rate: int, seconds: float, seed: int = 5):  # type: ignore[no-untyped-def]
    """Per tick: (messages, trigger SKUs in it)."""
    rng = random.Random(seed)
    per_tick = int(rate * TICK_S)
    trig_every = max(1, int(1 / (TRIGGERS_PER_S * TICK_S)))
    n = 0
    out = []
    for k in range(int(seconds / TICK_S)):
        now = datetime.now(UTC)
        msgs, trig = [], []
        if k % trig_every == 0:
            sku = f"T{k // trig_every:05d}"
            cmd = c.RecordSale(event_id=f"trig-{sku}", sku=sku, location="W", quantity=56,
                               occurred_at=now)
            msgs.append((cmd.event_id, dump(cmd)))
            trig.append(sku)
        while len(msgs) < per_tick:
            n += 1
            cls = c.ReceiveStock if n % 2 else c.RecordSale
            cmd = cls(event_id=f"ev-{n}", sku=f"S{rng.randrange(SKUS):05d}", location="W",
                      quantity=rng.randint(1, 3), occurred_at=now)
            msgs.append((cmd.event_id, dump(cmd)))
        out.append((msgs, trig))
    return out


def publish_paced(source: str, url: str, plan, stream: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    sent: dict[str, float] = {}
    start = time.perf_counter()
    if source == "embedded":
        engine = make_engine(url)
        for k, (msgs, trig) in enumerate(plan):
            _sleep_until(start + k * TICK_S)
            for s in trig:
                sent[s] = time.time()
            embedded.publish(engine, msgs)
        engine.dispose()
        return sent
    if source == "kafka":
        return _publish_kafka(plan, stream, start)

    async def run() -> None:
        nc, js = await nats_js._connect(NATS, stream)
        subject = f"{nats_js.subjects_of(stream)}.ledger"
        for k, (msgs, trig) in enumerate(plan):
            await asyncio.sleep(max(0.0, start + k * TICK_S - time.perf_counter()))
            for s in trig:
                sent[s] = time.time()
            await asyncio.gather(*[js.publish(subject, b, headers={"Nats-Msg-Id": m})
                                   for m, b in msgs])
        await nc.close()

    asyncio.run(run())
    return sent


def _publish_kafka(plan, topic: str, start: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    sent: dict[str, float] = {}
    prod = kafka.producer(None)
    for k, (msgs, trig) in enumerate(plan):
        _sleep_until(start + k * TICK_S)
        for s in trig:
            sent[s] = time.time()
        for mid, body in msgs:
            prod.produce(topic, value=body, key=kafka.key_of(body),
                         headers=[("event_id", mid.encode())])
        prod.flush(10)  # each tick leaves now, as the NATS publisher waits for its acks
    return sent


def _sleep_until(t: float) -> None:
    time.sleep(max(0.0, t - time.perf_counter()))


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def run_case(source: str, rate: int, seconds: float, tmp: Path, hook_port: int) -> dict:  # type: ignore[type-arg]
    ws = tmp / f"{source}-{uuid.uuid4().hex[:6]}"
    ws.mkdir(parents=True)
    plan = ticks(rate, seconds)
    n_trig = sum(len(tr) for _, tr in plan)
    url = setup(source, ws, n_trig)
    (ws / "stockpilot.toml").write_text(
        f'[alerts.channels]\nwebhook_url = "http://127.0.0.1:{hook_port}/hook"\n'
        f'webhook_secret = "bench"\n[alerts.routes]\nlow_stock = ["webhook"]\n'
        f'projected_stockout = []\n')
    stream = f"LAT_{uuid.uuid4().hex[:8].upper()}"
    if source == "nats":
        nats_js.reset(NATS, stream)
    if source == "kafka":
        stream = f"lat-{uuid.uuid4().hex[:8]}"
        kafka.ensure_topic(None, stream)
    cmd = [sys.executable, "-m", "stockpilot", "stream", "--source", source, "--alerts",
           "--batch", "1000", "--db", url, "--stream-name", stream, "-w", str(ws)]
    if source == "nats":
        cmd += ["--url", NATS]
    if source == "kafka":
        cmd += ["--group", f"g-{stream}"]
    env = {**os.environ, "STOCKPILOT_SQLITE_SYNCHRONOUS": "FULL"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    time.sleep(8.0 if source == "kafka" else 4.0)  # consumer started (joined) and idle
    _Hook.arrived = {}
    t0 = time.perf_counter()
    sent = publish_paced(source, url, plan, stream)
    pub_s = time.perf_counter() - t0
    deadline = time.monotonic() + 60
    while len(_Hook.arrived) < len(sent) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.terminate()
    proc.wait(timeout=30)
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(te.alerts.c.sku, te.alerts.c.created_at).where(
            te.alerts.c.rule == "low_stock")).all()
    engine.dispose()
    if source == "nats":
        nats_js.reset(NATS, stream)
    if source == "kafka":
        kafka.delete_topic(None, stream)
    raised = {s: (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp() for s, at in rows}
    to_alert = [raised[s] - sent[s] for s in sent if s in raised]
    to_hook = [_Hook.arrived[s] - sent[s] for s in sent if s in _Hook.arrived]
    events = sum(len(m) for m, _ in plan)
    return {"source": source, "events": events, "rate": events / pub_s,
            "triggers": len(sent), "alerts": len(to_alert), "hooks": len(to_hook),
            "alert": to_alert, "hook": to_hook}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--sources", default="embedded,nats")
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    tmp = Path("/tmp/stockpilot-latency-bench")
    tmp.mkdir(exist_ok=True)
    rows = [run_case(s, args.rate, args.seconds, tmp, srv.server_address[1])
            for s in args.sources.split(",")]
    print(f"# publish → alert latency, {args.rate:,} events/s for {args.seconds:.0f} s — "
          f"{machine()}; load before: {os.getloadavg()[0]:.1f}")
    print("| source → store | events | achieved events/s | triggers | alerts | "
          "→ alert p50 ms | p99 ms | max ms | → webhook p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        store = "SQLite" if r["source"] == "embedded" else "PostgreSQL"
        a, h = r["alert"] or [float("nan")], r["hook"] or [float("nan")]
        print(f"| {r['source']} → {store} | {r['events']:,} | {r['rate']:,.0f} | "
              f"{r['triggers']} | {r['alerts']} | {statistics.median(a) * 1000:.0f} | "
              f"{pct(a, 0.99) * 1000:.0f} | {max(a) * 1000:.0f} | "
              f"{statistics.median(h) * 1000:.0f} | {pct(h, 0.99) * 1000:.0f} |")
    print(f"\ncommand: python benchmarks/alert_latency.py --rate {args.rate} --seconds "
          f"{args.seconds:g} --sources {args.sources}")
    srv.shutdown()


if __name__ == "__main__":
    main()
