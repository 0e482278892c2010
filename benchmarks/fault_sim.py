"""Deterministic fault injection against the real consumer, in the spirit of TigerBeetle's VOPR.

A seed fixes a schedule of steps: publish events (valid, oversells, unknown SKUs, bad JSON,
event ids reused with another body), re-publish earlier messages (duplicate deliveries),
consume a batch in process, run the real ``stockpilot stream`` process and SIGKILL it at a
random moment, make the database refuse an event (a trigger: a permanent data error),
inject transient serialization failures (PostgreSQL: SQLSTATE 40001 for the next inserts),
and restart (a fresh engine). After every step the books are compared with an independent
in-memory model of what the processed prefix of the inbox must have done: on_hand per
SKU-location, the set of applied event ids (nothing lost, nothing doubled), the dead
letters, and the ledger's own invariant checker.

The model does not call the ledger's code: receipts add, sales and transfers need the units
(no backorders, nothing reserved), an event id applies once, a reused id with another body is
a conflict, an event the database refuses is dead. The schedule is deterministic given the
seed; only where a kill lands depends on timing, and the model follows the inbox's processed
prefix, so every outcome is checked exactly.

Usage (the long schedule; the suite runs short ones from tests/events/test_fault_injection.py):
    python benchmarks/fault_sim.py --db sqlite --steps 400 --seeds 1,2,3
    python benchmarks/fault_sim.py --db postgres --steps 400 --seeds 1,2,3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, select, text

from stockpilot.domain.commands import ReceiveStock, RecordSale, TransferStock
from stockpilot.events import embedded
from stockpilot.events.schema import dump
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.positions import get_positions
from stockpilot.store import schema as t
from stockpilot.store import schema_events as te
from stockpilot.store.db import make_engine
from stockpilot.store.migrate import upgrade

SKUS = [f"K{i}" for i in range(4)]
LOCATIONS = ["W", "V"]
AT = datetime(2024, 6, 1, tzinfo=UTC)
STEP_WEIGHTS = {"publish": 30, "duplicate": 10, "consume": 25, "kill": 6, "refuse": 5,
                "transient": 5, "restart": 4}


@dataclass
class Model:
    """What the processed prefix of the inbox must have done (module docstring)."""

    on_hand: Counter[tuple[str, str]] = field(default_factory=Counter)
    applied: dict[str, str] = field(default_factory=dict)  # event id → body
    dead: set[str] = field(default_factory=set)

    def take(self, message_id: str, body: str, refused: set[str]) -> None:
        """Process one inbox message as the consumer must."""
        try:
            ev: dict[str, Any] = json.loads(body)
        except ValueError:
            self.dead.add(message_id)
            return
        eid = ev["event_id"]
        if eid in self.applied:
            if self.applied[eid] != body:
                self.dead.add(message_id)  # the id was used for another event
            return
        if eid in refused or ev["sku"] not in SKUS or not self._fits(ev):
            self.dead.add(message_id)
            return
        q, here = ev["quantity"], (ev["sku"], ev["location"])
        if ev["kind"] == "receipt":
            self.on_hand[here] += q
        else:
            self.on_hand[here] -= q
            if ev["kind"] == "transfer":
                self.on_hand[(ev["sku"], ev["to_location"])] += q
        self.applied[eid] = body

    def _fits(self, ev: dict[str, Any]) -> bool:
        return ev["kind"] == "receipt" or self.on_hand[(ev["sku"], ev["location"])] >= \
            ev["quantity"]


class Simulation:
    """One seeded schedule against one database (``url``) and the embedded inbox."""

    def __init__(self, seed: int, url: str, workdir: Path, say: Any = None) -> None:
        self.rng = random.Random(seed)
        self.seed, self.url, self.workdir = seed, url, workdir
        self.say = say or (lambda _m: None)
        self.engine = make_engine(url)
        self.published: list[tuple[str, bytes]] = []
        self.refused: set[str] = set()
        self.n_events = 0
        self.log: list[str] = []
        upgrade(self.engine)
        with self.engine.begin() as conn:
            upsert_skus(conn, [{"sku": s, "name": s} for s in SKUS])
            upsert_locations(conn, [{"location": loc} for loc in LOCATIONS])
        _install_faults(self.engine)

    # --- steps ----------------------------------------------------------------------
    def publish(self) -> None:
        """A few new messages, some of them poison."""
        msgs = [self._message() for _ in range(self.rng.randint(1, 12))]
        self.published += msgs
        embedded.publish(self.engine, msgs)

    def _message(self) -> tuple[str, bytes]:
        self.n_events += 1
        eid, r = f"e{self.n_events}", self.rng.random()
        if r < 0.03:
            return eid, b"{not json"
        if r < 0.07 and self.published:  # an id reused with another body
            old = self.rng.choice(self.published)[0]
            return old, dump(ReceiveStock(event_id=old, sku="K0", location="W",
                                          quantity=self.rng.randint(100, 200), occurred_at=AT))
        sku = "NOPE" if r < 0.10 else self.rng.choice(SKUS)
        loc, q = self.rng.choice(LOCATIONS), self.rng.randint(1, 9)
        kind = self.rng.choices(["receipt", "sale", "transfer"], [45, 40, 15])[0]
        if kind == "receipt":
            cmd: Any = ReceiveStock(event_id=eid, sku=sku, location=loc, quantity=q,
                                    occurred_at=AT)
        elif kind == "sale":
            cmd = RecordSale(event_id=eid, sku=sku, location=loc, quantity=q, occurred_at=AT)
        else:
            other = LOCATIONS[1 - LOCATIONS.index(loc)]
            cmd = TransferStock(event_id=eid, sku=sku, location=loc, to_location=other,
                                quantity=q, occurred_at=AT)
        return eid, dump(cmd)

    def duplicate(self) -> None:
        """Deliver again messages already published (a redelivery, a retrying publisher)."""
        if self.published:
            again = self.rng.sample(self.published, min(len(self.published),
                                                        self.rng.randint(1, 5)))
            embedded.publish(self.engine, again)

    def consume(self) -> None:
        """One batch in process."""
        embedded.consume_once(self.engine, batch=self.rng.randint(1, 30))

    def kill(self) -> None:
        """The real ``stockpilot stream`` process, SIGKILLed at a random moment.

        The kill lands a random 0–300 ms after the process has begun to apply (its first
        batch committed), so it mostly hits a batch in flight, not the interpreter's start.
        """
        before = embedded.pending(self.engine)
        extra = self.rng.uniform(0.0, 0.3)
        cmd = [sys.executable, "-m", "stockpilot", "stream", "--source", "embedded",
               "--batch", str(self.rng.randint(1, 20)), "--idle-exit", "1",
               "-w", str(self.workdir), "--db", self.url]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, "STOCKPILOT_SQLITE_SYNCHRONOUS": "FULL"})
        deadline = time.monotonic() + 20
        while proc.poll() is None and time.monotonic() < deadline and before and \
                embedded.pending(self.engine) == before:
            time.sleep(0.01)
        time.sleep(extra)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def refuse(self) -> None:
        """The database will refuse one upcoming (or published, unprocessed) event."""
        eid = f"e{self.n_events + self.rng.randint(1, 8)}"
        self.refused.add(eid)
        with self.engine.begin() as conn:
            conn.execute(text("INSERT INTO fault_refuse (event_id) VALUES (:e)"), {"e": eid})

    def transient(self) -> None:
        """PostgreSQL: the next inserts fail with serialization failures (retried)."""
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                conn.execute(text("UPDATE fault_budget SET fail_until = "
                                  "(SELECT last_value FROM fault_seq) + :n"),
                             {"n": self.rng.randint(1, 3)})
        self.consume()

    def restart(self) -> None:
        """A fresh engine (the in-process consumer restarts)."""
        self.engine.dispose()
        self.engine = make_engine(self.url)

    # --- the check ------------------------------------------------------------------
    def check(self, step: int, name: str) -> None:
        """The books equal the model of the processed prefix; raise naming seed and step."""
        i = te.inbox.c
        with self.engine.connect() as conn:
            done = conn.execute(select(i.message_id, i.body).where(i.done_at.is_not(None))
                                .order_by(i.id)).all()
            on_hand = {(p.sku, p.location): p.on_hand for p in get_positions(conn)
                       if p.on_hand}
            applied = set(conn.execute(select(t.ledger_events.c.event_id)).scalars())
            dead = set(conn.execute(select(te.dead_letters.c.message_id)).scalars())
            problems = check_ledger(conn)
        model = Model()
        for mid, body in done:
            model.take(mid, body, self.refused)
        want = {k: v for k, v in model.on_hand.items() if v}
        where = f"seed {self.seed}, step {step} ({name}), {len(done)} messages processed"
        assert problems == [], f"{where}: invariants {problems}"
        assert applied == set(model.applied), \
            f"{where}: lost {set(model.applied) - applied}, extra {applied - set(model.applied)}"
        assert on_hand == want, f"{where}: books {on_hand} != model {want}"
        assert dead == model.dead, f"{where}: dead {dead ^ model.dead}"

    def run(self, steps: int) -> Counter[str]:
        """Run ``steps`` seeded steps, checking after each; the counts of each step kind."""
        names, weights = list(STEP_WEIGHTS), list(STEP_WEIGHTS.values())
        done: Counter[str] = Counter()
        for n in range(steps):
            name = self.rng.choices(names, weights)[0]
            getattr(self, name)()
            done[name] += 1
            self.check(n, name)
        while embedded.consume_once(self.engine, batch=50) is not None:  # drain
            pass
        self.check(steps, "drain")
        self.engine.dispose()
        return done


def _install_faults(engine: Engine) -> None:
    """Fault hooks in the database: refused event ids, and (PostgreSQL) a failure budget."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE fault_refuse (event_id VARCHAR(128) PRIMARY KEY)"))
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER fault BEFORE INSERT ON ledger_events WHEN NEW.event_id IN "
                "(SELECT event_id FROM fault_refuse) "
                "BEGIN SELECT RAISE(ABORT, 'value refused by the database'); END")
            return
        conn.execute(text("CREATE TABLE fault_budget (fail_until BIGINT NOT NULL)"))
        conn.execute(text("INSERT INTO fault_budget VALUES (0)"))
        conn.execute(text("CREATE SEQUENCE fault_seq"))
        conn.exec_driver_sql("""
            CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.event_id IN (SELECT event_id FROM fault_refuse) THEN
                RAISE EXCEPTION 'value refused by the database'
                  USING ERRCODE = 'numeric_value_out_of_range';
              END IF;
              IF nextval('fault_seq') <= (SELECT fail_until FROM fault_budget) THEN
                RAISE EXCEPTION 'injected' USING ERRCODE = 'serialization_failure';
              END IF;
              RETURN NEW;
            END $$""")
        conn.exec_driver_sql("CREATE TRIGGER fault BEFORE INSERT ON ledger_events "
                             "FOR EACH ROW EXECUTE FUNCTION fault()")


PG_URL = os.environ.get("STOCKPILOT_TEST_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def run_one(db: str, seed: int, steps: int, workdir: Path) -> Counter[str]:
    """One schedule on ``db`` (sqlite | postgres) in a fresh database; the step counts."""
    if db == "sqlite":
        return Simulation(seed, f"sqlite:///{workdir / 'stockpilot.db'}", workdir).run(steps)
    schema = f"f_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = f"{PG_URL}?options={quote(f'-csearch_path={schema}')}"
        return Simulation(seed, url, workdir).run(steps)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def main() -> None:
    """Run the long schedules and print one line per seed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--seeds", default="1,2,3")
    args = ap.parse_args()
    print(f"# fault injection on {args.db}: {args.steps} steps per seed")
    for seed in (int(s) for s in args.seeds.split(",")):
        t0 = time.perf_counter()
        print(f"seed {seed} ...", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            counts = run_one(args.db, seed, args.steps, Path(tmp))
        print(f"seed {seed}: {args.steps} steps OK in {time.perf_counter() - t0:.0f} s — "
              + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), flush=True)
    print(f"command: python benchmarks/fault_sim.py --db {args.db} --steps {args.steps} "
          f"--seeds {args.seeds}")


if __name__ == "__main__":
    main()
