"""The consumer core on both databases: dead letters once per message, touched keys."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from stockpilot.domain.commands import ReceiveStock, RecordSale, TransferStock
from stockpilot.events.consumer import Message, commit_batch
from stockpilot.events.schema import dump
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.store import schema as t
from stockpilot.store import schema_events as te

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def test_redelivered_dead_letters_are_recorded_once_and_touched_keys_reported(engine):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "a"}])
        upsert_locations(conn, [{"location": "W"}, {"location": "V"}])
    batch = [
        Message("r1", dump(ReceiveStock(event_id="r1", sku="A", location="W", quantity=5,
                                        occurred_at=NOW))),
        Message("t1", dump(TransferStock(event_id="t1", sku="A", location="W", quantity=2,
                                         to_location="V", occurred_at=NOW))),
        Message("s1", dump(RecordSale(event_id="s1", sku="A", location="W", quantity=99,
                                      occurred_at=NOW))),          # oversell
        Message("junk", b"{nope"),
    ]
    first = commit_batch(engine, "test", batch)
    assert (first.applied, first.dead) == (2, 2)
    assert first.touched == {("A", "W"), ("A", "V")}
    again = commit_batch(engine, "test", batch)  # a redelivery after a crash before the ack
    assert (again.applied, again.duplicate, again.dead) == (0, 2, 2)
    assert again.touched == set()
    with engine.connect() as conn:
        dead = conn.execute(select(te.dead_letters.c.message_id,
                                   te.dead_letters.c.error_type)).all()
    assert sorted(dead) == [("junk", "BadMessage"), ("s1", "InsufficientStock")]


def _refuse_event(engine, event_id: str) -> None:  # type: ignore[no-untyped-def]
    """A trigger that makes the database itself refuse one event (a value it cannot hold)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON ledger_events "
                f"WHEN NEW.event_id = '{event_id}' "
                "BEGIN SELECT RAISE(ABORT, 'value refused by the database'); END")
        else:
            conn.exec_driver_sql(f"""
                CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.event_id = '{event_id}' THEN
                    RAISE EXCEPTION 'value refused by the database'
                      USING ERRCODE = 'numeric_value_out_of_range';
                  END IF;
                  RETURN NEW;
                END $$""")
            conn.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON ledger_events "
                                 "FOR EACH ROW EXECUTE FUNCTION refuse()")


def test_an_event_the_database_refuses_is_dead_lettered_and_the_rest_applied(engine):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "a"}])
        upsert_locations(conn, [{"location": "W"}])
    _refuse_event(engine, "r2")
    batch = [Message(f"r{i}", dump(ReceiveStock(event_id=f"r{i}", sku="A", location="W",
                                                quantity=i, occurred_at=NOW)))
             for i in range(1, 5)]
    first = commit_batch(engine, "test", batch)
    assert (first.applied, first.dead) == (3, 1)
    again = commit_batch(engine, "test", batch)  # redelivered: nothing doubles
    assert (again.applied, again.duplicate, again.dead) == (0, 3, 1)
    with engine.connect() as conn:
        [(mid, kind, reason)] = conn.execute(select(
            te.dead_letters.c.message_id, te.dead_letters.c.error_type,
            te.dead_letters.c.reason)).all()
        on_hand = conn.execute(select(t.stock.c.on_hand)).scalar_one()
    assert (mid, kind) == ("r2", "StorageRejected") and "refused" in reason
    assert on_hand == 1 + 3 + 4


def test_a_huge_invalid_message_keeps_a_capped_dead_letter(engine):
    from stockpilot.events.consumer import DEAD_BODY_CHARS

    huge = b'{"kind": "receipt", "junk": "' + b"x" * 300_000 + b'"}'
    res = commit_batch(engine, "test", [Message("h" * 300, huge)])
    assert res.dead == 1
    with engine.connect() as conn:
        [(mid, body)] = conn.execute(select(te.dead_letters.c.message_id,
                                            te.dead_letters.c.body)).all()
    assert len(body) < DEAD_BODY_CHARS + 100 and body.endswith("characters not kept]")
    assert len(mid) <= 160 and mid.startswith("hhh")  # a long id keeps a hash, never a cut


def test_on_the_callers_transaction_a_refused_event_is_dead_lettered_too(engine):
    from stockpilot.events.consumer import apply_messages

    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "a"}])
        upsert_locations(conn, [{"location": "W"}])
    _refuse_event(engine, "r2")
    batch = [Message(f"r{i}", dump(ReceiveStock(event_id=f"r{i}", sku="A", location="W",
                                                quantity=i, occurred_at=NOW)))
             for i in range(1, 4)]
    with engine.begin() as conn:  # as the API's POST /events does
        res = apply_messages(conn, "api", batch)
    assert (res.applied, res.dead) == (2, 1)
    with engine.connect() as conn:
        assert conn.execute(select(t.stock.c.on_hand)).scalar_one() == 1 + 3
