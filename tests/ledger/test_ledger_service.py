"""The ledger service on SQLite and PostgreSQL: idempotency, batches, POs, guards, agreement."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from stockpilot.domain import commands as c
from stockpilot.errors import EventConflict, InsufficientStock, InvalidEvent, NotFound
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus, upsert_suppliers
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.positions import get_positions
from stockpilot.ledger.purchasing import (
    OrderLine,
    cancel_purchase_order,
    create_purchase_order,
    receive_purchase_order,
)
from stockpilot.ledger.service import apply_events, apply_one
from stockpilot.store import schema as t
from stockpilot.store.uow import transact

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def ledger(engine):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "a"}, {"sku": "F", "name": "f",
                                                       "lot_tracked": True}])
        upsert_locations(conn, [{"location": "W"}, {"location": "S"},
                                {"location": "BO", "allows_backorders": True}])
        upsert_suppliers(conn, [{"supplier": "ACME"}])
    yield engine
    with engine.connect() as conn:
        assert check_ledger(conn) == []


def rcv(eid, qty, sku="A", loc="W", **kw):
    return c.ReceiveStock(event_id=eid, sku=sku, location=loc, quantity=qty, occurred_at=NOW,
                          **kw)


def sell(eid, qty, sku="A", loc="W", **kw):
    return c.RecordSale(event_id=eid, sku=sku, location=loc, quantity=qty, occurred_at=NOW, **kw)


def pos(engine, sku="A", loc="W"):
    with engine.connect() as conn:
        found = get_positions(conn, sku=sku, location=loc, today=NOW.date())
    return found[0] if found else None


def table_count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_replay_returns_first_result_and_changes_nothing(ledger):
    first = transact(ledger, apply_one, rcv("r1", 5))
    moves = table_count(ledger, t.movements)
    again = transact(ledger, apply_one, rcv("r1", 5))
    assert (first.status, again.status, again.movements) == ("applied", "duplicate", 1)
    assert table_count(ledger, t.movements) == moves and pos(ledger).on_hand == 5
    with pytest.raises(EventConflict):
        transact(ledger, apply_one, rcv("r1", 6))


def test_mixed_batch_applies_each_event_alone(ledger):
    results = transact(ledger, apply_events, [
        rcv("r1", 5), sell("s1", 3), sell("s2", 3), sell("s3", 2), rcv("r1", 5),
        rcv("x", 1, sku="NOPE"), rcv("y", 1, loc="NOWHERE"), sell("s4", 1, loc="BO")])
    assert [r.status for r in results] == ["applied", "applied", "rejected", "applied",
                                           "duplicate", "rejected", "rejected", "applied"]
    assert results[2].detail == {"sku": "A", "location": "W", "requested": 3, "available": 2}
    assert [results[5].error_type, results[6].error_type] == ["UnknownSku", "UnknownLocation"]
    assert pos(ledger).on_hand == 0 and pos(ledger, loc="BO").on_hand == -1
    with pytest.raises(InsufficientStock):
        transact(ledger, apply_one, sell("s5", 1))


def test_outbox_and_order_lines_are_written_with_the_event(ledger):
    transact(ledger, apply_events, [rcv("r1", 5), sell("s1", 2, customer_id="c9", order_id="o1",
                                                        unit_price=2.5)])
    with ledger.connect() as conn:
        topics = conn.execute(select(t.outbox.c.topic).order_by(t.outbox.c.id)).scalars().all()
        line = conn.execute(select(t.order_lines)).one()
    assert topics == ["ledger.receipt", "ledger.sale"]
    assert (line.customer_id, line.order_id, line.quantity, line.source) == ("c9", "o1", 2,
                                                                             "ledger")


def test_lots_expiry_in_positions(ledger):
    transact(ledger, apply_events, [rcv("l1", 4, sku="F", lot_code="OLD", expiry=date(2024, 5, 1)),
                          rcv("l2", 6, sku="F", lot_code="NEW", expiry=date(2024, 12, 1))])
    p = pos(ledger, sku="F")
    assert (p.on_hand, p.available, p.expired) == (10, 6, 4)
    [bad] = transact(ledger, apply_events, [sell("s", 7, sku="F")])
    assert bad.detail["available"] == 6


def test_purchase_order_lifecycle(ledger):
    po, new = transact(ledger, create_purchase_order, "ACME",
                       [OrderLine("A", "W", 10), OrderLine("A", "S", 4)], reference="PO-1")
    assert new
    assert transact(ledger, create_purchase_order, "ACME", [OrderLine("A", "W", 10)],
                    reference="PO-1") == (po, False)
    assert (pos(ledger).on_order, pos(ledger).projected) == (10, 10)
    with pytest.raises(InvalidEvent, match=r"line 1 \(A@W\) has 10 of 10 units open; 12"):
        transact(ledger, receive_purchase_order, po, {1: 12})  # over-delivery needs a confirmation
    assert (pos(ledger).on_hand, pos(ledger).on_order) == (0, 10)
    transact(ledger, receive_purchase_order, po, {1: 12}, over_receipt=True)  # on_order stops at 0
    transact(ledger, receive_purchase_order, po, {1: 12})  # replayed receipt: nothing changes
    assert (pos(ledger).on_hand, pos(ledger).on_order) == (12, 0)
    assert pos(ledger, loc="S").on_order == 4
    transact(ledger, cancel_purchase_order, po)
    assert pos(ledger, loc="S").on_order == 0
    with pytest.raises(NotFound):
        transact(ledger, create_purchase_order, "NOBODY", [OrderLine("A", "W", 1)])


def _wire_receipt(event_id: str, qty: int, po: int, sku: str = "A") -> bytes:
    return (f'{{"kind":"receipt","event_id":"{event_id}","sku":"{sku}","location":"W",'
            f'"quantity":{qty},"occurred_at":"2024-01-01T00:00:00Z",'
            f'"purchase_order_id":{po}}}').encode()


def _po_line(ledger, po: int) -> tuple[int, str]:
    with ledger.connect() as conn:
        got = conn.execute(select(t.purchase_order_lines.c.received)
                           .where(t.purchase_order_lines.c.po_id == po)).scalar_one()
        status = conn.execute(select(t.purchase_orders.c.status)
                              .where(t.purchase_orders.c.id == po)).scalar_one()
    return got, status


def test_a_wire_receipt_naming_a_po_receives_against_its_line(ledger):
    """Issue 17 item 3: PO of 10, receipt of 4 naming the PO on the wire lowered on_order to 6
    and left the PO open; now the PO line moves with on_order, or the receipt is refused."""
    from stockpilot.events.consumer import Message, commit_batch

    po, _ = transact(ledger, create_purchase_order,
                     "ACME", [OrderLine("A", "W", 10)], reference="PO-9")
    res = commit_batch(ledger, "test", [Message("w1", _wire_receipt("w1", 4, po))])
    assert (res.applied, res.dead) == (1, 0)
    assert (pos(ledger).on_hand, pos(ledger).on_order) == (4, 6)
    assert _po_line(ledger, po) == (4, "partial")
    refused = {"nopo": _wire_receipt("nopo", 1, 987654),  # no such PO
               "over": _wire_receipt("over", 7, po),  # 6 open
               "sku": _wire_receipt("sku", 1, po, sku="B")}  # no line of B@W
    res = commit_batch(ledger, "test", [Message(k, v) for k, v in refused.items()])
    assert (res.applied, res.dead) == (0, 3)
    assert (pos(ledger).on_hand, pos(ledger).on_order) == (4, 6)
    res = commit_batch(ledger, "test", [Message("w2", _wire_receipt("w2", 6, po))])
    assert res.applied == 1 and _po_line(ledger, po) == (10, "received")
    res = commit_batch(ledger, "test", [Message("w1", _wire_receipt("w1", 4, po))])
    assert (res.applied, res.duplicate, res.dead) == (0, 1, 0)  # a replay, line closed or not
    assert (pos(ledger).on_hand, pos(ledger).on_order) == (10, 0)
    with ledger.connect() as conn:  # the books (stock check) agree with the PO
        assert check_ledger(conn) == []


def test_naive_times_are_utc_in_events_apply_as_on_the_wire(tmp_path):
    from stockpilot.cli.stock_cmds import _read_events
    from stockpilot.events.schema import parse

    line = ('{"kind":"receipt","event_id":"n1","sku":"A","location":"W","quantity":1,'
            '"occurred_at":"2024-01-01T10:00:00"}')
    path = tmp_path / "events.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    [from_file] = _read_events(path)
    assert from_file == parse(line.encode())  # same command, so a replay is a duplicate
    assert from_file.occurred_at == datetime(2024, 1, 1, 10, tzinfo=UTC)


def test_database_refuses_an_oversell_written_behind_the_service(ledger):
    transact(ledger, apply_one, rcv("r1", 2))
    with pytest.raises(IntegrityError), ledger.begin() as conn:
        conn.execute(text("update stock set on_hand = -1 where sku = 'A' and location = 'W'"))
    with pytest.raises(IntegrityError), ledger.begin() as conn:
        conn.execute(text("update stock set reserved = 3 where sku = 'A' and location = 'W'"))
    assert pos(ledger).on_hand == 2


def test_invariant_checker_sees_tampering(ledger):
    transact(ledger, apply_one, rcv("r1", 2))
    with ledger.begin() as conn:
        conn.execute(text("update stock set on_hand = 1 where sku = 'A' and location = 'W'"))
    with ledger.connect() as conn:
        problems = check_ledger(conn)
    assert problems and "replay to 2/0" in problems[0]
    with ledger.begin() as conn:
        conn.execute(text("update stock set on_hand = 2 where sku = 'A' and location = 'W'"))


SCRIPT = [rcv("r1", 10), sell("s1", 3), c.ReserveStock(event_id="v1", sku="A", location="W",
                                                       quantity=4, occurred_at=NOW),
          sell("s2", 4), c.TransferStock(event_id="t1", sku="A", location="W", to_location="S",
                                         quantity=3, occurred_at=NOW),
          c.CountStock(event_id="k1", sku="A", location="W", quantity=2, occurred_at=NOW),
          rcv("l1", 5, sku="F", lot_code="X", expiry=date(2025, 1, 1)), sell("s3", 2, sku="F")]


def _outcome(engine):
    results = [(r.event_id, r.status, r.movements, r.error_type)
               for r in transact(engine, apply_events, SCRIPT)]
    with engine.connect() as conn:
        moves = conn.execute(select(t.movements.c.event_id, t.movements.c.seq,
                                    t.movements.c.kind, t.movements.c.on_hand_delta,
                                    t.movements.c.reserved_delta, t.movements.c.lot_code)
                             .order_by(t.movements.c.id)).all()
        positions = [p.to_dict() for p in get_positions(conn, today=NOW.date())]
    return results, [tuple(m) for m in moves], positions


@pytest.mark.postgres
def test_sqlite_and_postgres_agree(sqlite_engine, pg_engine):
    outcomes = []
    for eng in (sqlite_engine, pg_engine):
        with eng.begin() as conn:
            upsert_skus(conn, [{"sku": "A", "name": "a"},
                               {"sku": "F", "name": "f", "lot_tracked": True}])
            upsert_locations(conn, [{"location": "W"}, {"location": "S"}])
        outcomes.append(_outcome(eng))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0][3][1] == "rejected"  # s2: 4 asked, 3 available after the reservation


def test_migrations_create_exactly_the_declared_schema(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import stockpilot.store.all_tables  # noqa: F401
    from stockpilot.store.schema import metadata

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
