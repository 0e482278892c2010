"""The outbox relay on both databases: id order, once per change, gaps, alerts, the bodies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from stockpilot.domain.commands import ReceiveStock, RecordSale, TransferStock
from stockpilot.events.relay import Change, Relay
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store import schema as t
from stockpilot.store.uow import transact

NOW = datetime(2024, 6, 1, tzinfo=UTC)


class Recorder:
    """A bus that keeps what it was sent (and can fail the next send, like a broker down)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []
        self.fail_next = False

    def send(self, changes: Sequence[Change], bodies: Sequence[bytes]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker down")
        self.sent += [(ch.message_id, json.loads(b)) for ch, b in zip(changes, bodies,
                                                                       strict=True)]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _book(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "a"}, {"sku": "B", "name": "b"}])
        upsert_locations(conn, [{"location": "W"}, {"location": "V"}])


def _unpublished(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.outbox)
                            .where(t.outbox.c.published_at.is_(None))).scalar_one()


def test_relay_publishes_each_committed_change_once_in_id_order(engine):
    _book(engine)
    transact(engine, apply_events, [
        ReceiveStock(event_id="r1", sku="A", location="W", quantity=10, occurred_at=NOW),
        ReceiveStock(event_id="r2", sku="B", location="W", quantity=4, occurred_at=NOW),
        TransferStock(event_id="t1", sku="A", location="W", to_location="V", quantity=3,
                      occurred_at=NOW),
        RecordSale(event_id="s1", sku="B", location="W", quantity=99, occurred_at=NOW),  # refused
    ])
    bus, batches = Recorder(), []
    relay = Relay(engine, bus, batch=2, on_batch=batches.append)
    assert relay.run(idle_exit=0.01, poll_s=0.001) == 3
    ids = [mid for mid, _ in bus.sent]
    assert ids == sorted(ids, key=lambda m: int(m.split("-")[1])) and len(set(ids)) == 3
    assert [b["event"]["event_id"] for _, b in bus.sent] == ["r1", "r2", "t1"]
    assert [b["key"] for _, b in bus.sent] == ["A@W", "B@W", "A@W"]
    # the position when the relay read it: A@W after the transfer
    assert bus.sent[2][1]["stock"] == {"on_hand": 7, "reserved": 0, "available": 7}
    assert set().union(*(b.touched for b in batches)) == {("A", "W"), ("B", "W"), ("A", "V")}
    assert _unpublished(engine) == 0
    assert Relay(engine, bus).step() == 0  # a restarted relay sends nothing again


def test_a_failed_send_marks_nothing_and_the_batch_goes_again(engine):
    _book(engine)
    transact(engine, apply_events,
             [ReceiveStock(event_id=f"r{i}", sku="A", location="W", quantity=1,
                           occurred_at=NOW) for i in range(5)])
    bus = Recorder()
    bus.fail_next = True
    relay = Relay(engine, bus, batch=10)
    with pytest.raises(ConnectionError):
        relay.step()
    assert _unpublished(engine) == 5 and bus.sent == []
    assert relay.step() == 5
    assert [b["event"]["event_id"] for _, b in bus.sent] == [f"r{i}" for i in range(5)]


def _outbox_row(conn, row_id: int, key: str = "A@W") -> None:  # type: ignore[no-untyped-def]
    body = ReceiveStock(event_id=f"x{row_id}", sku="A", location="W", quantity=1,
                        occurred_at=NOW).canonical_json()
    conn.execute(insert(t.outbox).values(id=row_id, topic="ledger.receipt", key=key,
                                         payload=body, created_at=NOW))


def test_relay_waits_for_a_gap_then_steps_over_it_and_still_sends_a_late_row(engine):
    _book(engine)
    with engine.begin() as conn:
        for row_id in (1, 2, 4, 5):  # 3: a transaction still open (or rolled back)
            _outbox_row(conn, row_id)
    clock, bus = Clock(), Recorder()
    relay = Relay(engine, bus, gap_wait_s=2.0, clock=clock)
    assert relay.step() == 2  # 1, 2: not past the gap
    clock.now = 1.0
    assert relay.step() == 0  # still waiting for 3
    clock.now = 2.5
    assert relay.step() == 2  # 4, 5: the gap expired
    with engine.begin() as conn:
        _outbox_row(conn, 3)  # it committed after all
    assert relay.step() == 1
    assert [mid for mid, _ in bus.sent] == ["outbox-1", "outbox-2", "outbox-4", "outbox-5",
                                            "outbox-3"]


@pytest.mark.postgres
def test_relay_does_not_pass_a_transaction_still_open_on_postgres(pg_engine):
    _book(pg_engine)
    bus = Recorder()
    relay = Relay(pg_engine, bus, gap_wait_s=60.0)
    with pg_engine.connect() as open_conn:
        tx = open_conn.begin()
        apply_events(open_conn, [ReceiveStock(event_id="slow", sku="A", location="W",
                                          quantity=1, occurred_at=NOW)])  # holds an id
        # another SKU-location: no row lock in common, so it commits while "slow" is open
        transact(pg_engine, apply_events, [ReceiveStock(event_id="fast", sku="B", location="W",
                                                        quantity=2, occurred_at=NOW)])
        assert relay.step() == 0  # "fast" is visible, but "slow" may still commit before it
        tx.commit()
    assert relay.step() == 2
    assert [b["event"]["event_id"] for _, b in bus.sent] == ["slow", "fast"]


def test_relay_drives_the_live_alert_check_for_changes_from_any_writer(engine, tmp_path):
    from datetime import timedelta

    import polars as pl

    from stockpilot.alerts.live import LiveAlerts
    from stockpilot.alerts.routing import Router
    from stockpilot.store.history import HistoryStore

    _book(engine)
    hs = HistoryStore(tmp_path / "history")
    today = datetime.now(UTC).date()
    hs.write("plans", "latest", pl.DataFrame({"unique_id": ["A@W", "B@W"],
                                              "reorder_point": [10, 10],
                                              "protection_days": [14, 14]}))
    hs.write("forecasts", "latest", pl.DataFrame({
        "unique_id": ["A@W", "B@W"], "ds": [today + timedelta(days=1)] * 2,
        "mean": [2.0, 2.0]}))

    class Hook:  # a hand-written fake notifier
        channel = "webhook"

        def __init__(self) -> None:
            self.sent: list[tuple[str, str]] = []

        def send(self, alert: dict) -> None:
            self.sent.append((alert["rule"], alert["sku"]))

    web = Hook()
    live = LiveAlerts(engine, hs, Router({"webhook": web}, {"low_stock": ["webhook"]}),
                      gauges_every_s=0, background=False)
    relay = Relay(engine, Recorder(), on_batch=live)
    now = datetime.now(UTC)
    # a writer that is not the stream consumer (an import, the API): straight to the ledger
    transact(engine, apply_events, [ReceiveStock(event_id="a1", sku="A", location="W", quantity=40,
                                                 occurred_at=now),
                                    ReceiveStock(event_id="b1", sku="B", location="W", quantity=40,
                                                 occurred_at=now)])
    relay.step()
    assert web.sent == []
    transact(engine, apply_events, [RecordSale(event_id="a2", sku="A", location="W", quantity=35,
                                               occurred_at=now)])  # A: 5 left, B untouched
    relay.step()
    assert sorted(web.sent) == [("low_stock", "A"), ("projected_stockout", "A")]
    live.close()
