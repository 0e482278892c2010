"""Hypothesis drives the real ledger against a small in-memory model (CONVENTIONS §14).

The model re-states the rules independently and simply: FEFO over unexpired lots, no
oversell except untracked SKUs at a backorder location, releases latest-expiry-first, counts
that release what they can no longer cover, transfers, and replays of earlier event ids that
must change nothing. After every step the database must agree with the model and pass the
invariant checker.
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from sqlalchemy import text

from stockpilot.domain import commands as c
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.service import apply_events
from stockpilot.store.uow import transact

TODAY = datetime(2024, 6, 1, 12, tzinfo=UTC)
LOTS = {"L-old": date(2024, 5, 1), "L-soon": date(2024, 6, 10), "L-late": date(2024, 9, 1)}
SKUS = ["PLAIN", "FRESH"]  # FRESH is lot-tracked
LOCS = ["W", "BO"]  # BO allows backorders


class Model:
    """Balances per (sku, loc) for PLAIN, per (sku, loc, lot) for FRESH."""

    def __init__(self) -> None:
        self.plain: dict[str, list[int]] = {loc: [0, 0] for loc in LOCS}
        self.lots: dict[tuple[str, str], list[int]] = {}

    def fefo(self, loc: str) -> list[tuple[str, list[int]]]:
        return sorted(((lot, v) for (lc, lot), v in self.lots.items() if lc == loc),
                      key=lambda kv: (LOTS[kv[0]], kv[0]))

    def free_lots(self, loc: str) -> list[tuple[str, list[int]]]:
        return [(lot, v) for lot, v in self.fefo(loc) if LOTS[lot] > TODAY.date()]

    def available(self, sku: str, loc: str) -> int:
        if sku == "PLAIN":
            oh, res = self.plain[loc]
            return oh - res
        return sum(v[0] - v[1] for _, v in self.free_lots(loc))

    def take(self, loc: str, qty: int, reserve: bool) -> None:
        need = qty
        for _, v in self.free_lots(loc):
            got = min(v[0] - v[1], need)
            if reserve:
                v[1] += got
            else:
                v[0] -= got
            need -= got

    def totals(self, sku: str, loc: str) -> tuple[int, int]:
        if sku == "PLAIN":
            return tuple(self.plain[loc])  # type: ignore[return-value]
        vals = [v for (lc, _), v in self.lots.items() if lc == loc]
        return sum(v[0] for v in vals), sum(v[1] for v in vals)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        from stockpilot.store.db import make_engine
        from stockpilot.store.migrate import upgrade

        self.dir = tempfile.TemporaryDirectory()
        self.engine = self.make_engine(make_engine)
        upgrade(self.engine)
        with self.engine.begin() as conn:
            upsert_skus(conn, [{"sku": "PLAIN", "name": "p", "lot_tracked": False},
                               {"sku": "FRESH", "name": "f", "lot_tracked": True}])
            upsert_locations(conn, [{"location": "W", "allows_backorders": False},
                                    {"location": "BO", "allows_backorders": True}])
        self.model = Model()
        self.applied: list[c.LedgerCommand] = []

    def make_engine(self, make_engine):  # type: ignore[no-untyped-def]
        return make_engine(f"sqlite:///{Path(self.dir.name) / 'l.db'}", synchronous="OFF")

    def teardown(self) -> None:
        self.engine.dispose()
        self.dir.cleanup()

    def send(self, cmd: c.LedgerCommand) -> str:
        [result] = transact(self.engine, apply_events, [cmd])
        if result.status == "applied":
            self.applied.append(cmd)
        return result.status

    def eid(self) -> str:
        return uuid.uuid4().hex

    # --- rules ------------------------------------------------------------------------
    @initialize(qty=st.lists(st.integers(1, 8), min_size=3, max_size=3))
    def seed_lots(self, qty: list[int]) -> None:
        """Every run starts with all three lots at W, so FEFO decides from the first sale."""
        for lot, q in zip(sorted(LOTS), qty, strict=True):
            self.receive_lot("W", lot, q)

    @rule(loc=st.sampled_from(LOCS), qty=st.integers(1, 20))
    def receive_plain(self, loc: str, qty: int) -> None:
        assert self.send(c.ReceiveStock(event_id=self.eid(), sku="PLAIN", location=loc,
                                        quantity=qty, occurred_at=TODAY)) == "applied"
        self.model.plain[loc][0] += qty

    @rule(loc=st.sampled_from(LOCS), lot=st.sampled_from(sorted(LOTS)), qty=st.integers(1, 20))
    def receive_lot(self, loc: str, lot: str, qty: int) -> None:
        assert self.send(c.ReceiveStock(event_id=self.eid(), sku="FRESH", location=loc,
                                        quantity=qty, occurred_at=TODAY, lot_code=lot,
                                        expiry=LOTS[lot])) == "applied"
        self.model.lots.setdefault((loc, lot), [0, 0])[0] += qty

    @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS), qty=st.integers(1, 15),
          reserve=st.booleans())
    def sell_or_reserve(self, sku: str, loc: str, qty: int, reserve: bool) -> None:
        cls = c.ReserveStock if reserve else c.RecordSale
        status = self.send(cls(event_id=self.eid(), sku=sku, location=loc, quantity=qty,
                               occurred_at=TODAY))
        backorder = sku == "PLAIN" and loc == "BO"
        ok = backorder or self.model.available(sku, loc) >= qty
        assert status == ("applied" if ok else "rejected")
        if not ok:
            return
        if sku == "PLAIN":
            self.model.plain[loc][1 if reserve else 0] += qty if reserve else -qty
        else:
            self.model.take(loc, qty, reserve)

    @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS), qty=st.integers(1, 10))
    def release(self, sku: str, loc: str, qty: int) -> None:
        status = self.send(c.ReleaseReservation(event_id=self.eid(), sku=sku, location=loc,
                                                quantity=qty, occurred_at=TODAY))
        reserved = self.model.totals(sku, loc)[1]
        assert status == ("applied" if reserved >= qty else "rejected")
        if reserved < qty:
            return
        if sku == "PLAIN":
            self.model.plain[loc][1] -= qty
            return
        need = qty
        for _, v in reversed(self.model.fefo(loc)):
            got = min(v[1], need)
            v[1] -= got
            need -= got

    @rule(loc=st.sampled_from(LOCS), qty=st.integers(1, 10))
    def return_plain(self, loc: str, qty: int) -> None:
        assert self.send(c.RecordReturn(event_id=self.eid(), sku="PLAIN", location=loc,
                                        quantity=qty, occurred_at=TODAY)) == "applied"
        self.model.plain[loc][0] += qty

    @rule(qty=st.integers(0, 30))
    def count_plain_at_w(self, qty: int) -> None:
        assert self.send(c.CountStock(event_id=self.eid(), sku="PLAIN", location="W",
                                      quantity=qty, occurred_at=TODAY)) == "applied"
        self.model.plain["W"][0] = qty
        self.model.plain["W"][1] = min(self.model.plain["W"][1], qty)

    @precondition(lambda self: any(k[0] == "W" for k in self.model.lots))
    @rule(data=st.data(), qty=st.integers(0, 30))
    def count_lot_at_w(self, data: st.DataObject, qty: int) -> None:
        lot = data.draw(st.sampled_from(sorted(k[1] for k in self.model.lots if k[0] == "W")))
        assert self.send(c.CountStock(event_id=self.eid(), sku="FRESH", location="W",
                                      quantity=qty, occurred_at=TODAY, lot_code=lot)) == "applied"
        v = self.model.lots[("W", lot)]
        v[0], v[1] = qty, min(v[1], qty)

    @rule(sku=st.sampled_from(SKUS), src=st.sampled_from(LOCS), qty=st.integers(1, 10))
    def transfer(self, sku: str, src: str, qty: int) -> None:
        dst = "BO" if src == "W" else "W"
        status = self.send(c.TransferStock(event_id=self.eid(), sku=sku, location=src,
                                           to_location=dst, quantity=qty, occurred_at=TODAY))
        ok = self.model.available(sku, src) >= qty
        assert status == ("applied" if ok else "rejected")
        if not ok:
            return
        if sku == "PLAIN":
            self.model.plain[src][0] -= qty
            self.model.plain[dst][0] += qty
            return
        need = qty
        for lot, v in self.model.free_lots(src):
            got = min(v[0] - v[1], need)
            v[0] -= got
            if got:
                self.model.lots.setdefault((dst, lot), [0, 0])[0] += got
            need -= got

    @precondition(lambda self: bool(self.applied))
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        cmd = data.draw(st.sampled_from(self.applied))
        [result] = transact(self.engine, apply_events, [cmd])
        assert result.status == "duplicate"

    # --- invariants --------------------------------------------------------------------
    @invariant()
    def agrees_with_model(self) -> None:
        with self.engine.connect() as conn:
            rows = conn.execute(text("select sku, location, on_hand, reserved from stock")).all()
            lots = conn.execute(text("select location, lot_code, on_hand, reserved from lots "
                                     "where on_hand > 0 or reserved > 0")).all()
            assert check_ledger(conn) == []
        want_lots = {k: tuple(v) for k, v in self.model.lots.items() if v != [0, 0]}
        assert {(r.location, r.lot_code): (r.on_hand, r.reserved) for r in lots} == want_lots
        db = {(r.sku, r.location): (r.on_hand, r.reserved) for r in rows}
        for sku in SKUS:
            for loc in LOCS:
                assert db.get((sku, loc), (0, 0)) == self.model.totals(sku, loc), (sku, loc)


LedgerMachine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_ledger_against_model = pytest.mark.slow(LedgerMachine.TestCase)


class PostgresLedgerMachine(LedgerMachine):
    """The same machine on PostgreSQL, each run in a schema of its own."""

    pg_url = ""

    def make_engine(self, make_engine):  # type: ignore[no-untyped-def]
        from sqlalchemy import create_engine

        self.schema = f"h_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(self.pg_url)
        with self.admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {self.schema}"))
        return make_engine(self.pg_url, connect_args={"options": f"-csearch_path={self.schema}"})

    def teardown(self) -> None:
        self.engine.dispose()
        with self.admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {self.schema} CASCADE"))
        self.admin.dispose()
        self.dir.cleanup()


PostgresLedgerMachine.TestCase.settings = settings(
    max_examples=5, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@pytest.mark.postgres
def test_ledger_against_model_on_postgres(pg_url):
    PostgresLedgerMachine.pg_url = pg_url
    PostgresLedgerMachine.TestCase().runTest()
