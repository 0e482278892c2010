"""``bulk_insert`` stores exactly what SQLAlchemy's own insert stores, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, select

from stockpilot.store import schema as t
from stockpilot.store import schema_events as te
from stockpilot.store.bulk import JsonText, bulk_insert
from stockpilot.store.uow import transact

AT = datetime(2024, 6, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _moves(prefix: str) -> list[dict]:
    return [{"event_id": f"{prefix}{i}", "seq": 0, "kind": 10, "sku": "A'\"\\{,}",
             "location": "W é", "on_hand_delta": i - 1, "reserved_delta": 0,
             "lot_code": None if i else "L1", "expiry": date(2024, 7, 1) if i else None,
             "variance": None, "reference": "x,y", "occurred_at": AT, "recorded_at": AT}
            for i in range(3)]


def test_round_trip_matches_sqlalchemy(engine):
    with engine.begin() as conn:
        bulk_insert(conn, t.movements, _moves("b"))
        conn.execute(insert(t.movements), _moves("s"))
        bulk_insert(conn, t.ledger_events, [
            {"event_id": "b", "kind": "receipt", "fingerprint": "f",
             "result": JsonText('{"status": "applied"}'), "recorded_at": AT},
            {"event_id": "b2", "kind": "receipt", "fingerprint": "f",
             "result": {"status": "applied", "n": [1, "é"]}, "recorded_at": AT}])
    with engine.connect() as conn:
        rows = conn.execute(select(t.movements).order_by(t.movements.c.id)).all()
        results = dict(conn.execute(select(t.ledger_events.c.event_id,
                                           t.ledger_events.c.result)).all())
    ours = [r._mapping for r in rows if r.event_id.startswith("b")]
    theirs = [r._mapping for r in rows if r.event_id.startswith("s")]
    strip = ("id", "event_id")
    assert [{k: v for k, v in m.items() if k not in strip} for m in ours] == \
        [{k: v for k, v in m.items() if k not in strip} for m in theirs]
    assert results == {"b": {"status": "applied"}, "b2": {"status": "applied", "n": [1, "é"]}}


def test_skip_conflicts_on_postgres_and_refused_elsewhere(engine):
    row = {"source": "s", "message_id": "m", "body": "{", "error_type": "BadMessage",
           "reason": "r", "created_at": AT}
    with engine.begin() as conn:
        if conn.dialect.name != "postgresql":
            with pytest.raises(ValueError, match="PostgreSQL"):
                bulk_insert(conn, te.dead_letters, [row], skip_conflicts=True)
            return
        bulk_insert(conn, te.dead_letters, [row, {**row, "message_id": "n"}],
                    skip_conflicts=True)
        bulk_insert(conn, te.dead_letters, [row], skip_conflicts=True)
    with engine.connect() as conn:
        assert len(conn.execute(select(te.dead_letters)).all()) == 2


def test_values_past_their_column_are_refused_not_cut(engine):
    """Two 79-character customer ids once became one 64-character customer on PostgreSQL."""
    from stockpilot.errors import ValueRejected

    now = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [{"customer_id": "c" * 78 + s, "country": "UK", "first_seen": now} for s in "12"]
    with pytest.raises(ValueRejected) as got, engine.begin() as conn:
        bulk_insert(conn, t.customers, rows)
    assert (got.value.table, got.value.column, got.value.row) == ("customers", "customer_id", 1)
    assert "79 characters, at most 64" in str(got.value)
    with pytest.raises(ValueRejected, match="NUL"), engine.begin() as conn:
        bulk_insert(conn, t.customers, [{"customer_id": "a\x00b", "first_seen": now}])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.customers)).scalar_one() == 0


def test_a_150_character_event_id_is_a_clear_rejection_every_time(engine):
    from stockpilot.domain.commands import ReceiveStock
    from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
    from stockpilot.ledger.service import apply_events

    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "a"}])
        upsert_locations(conn, [{"location": "W"}])
    cmd = ReceiveStock(event_id="e" * 150, sku="A", location="W", quantity=1,
                       occurred_at=datetime(2024, 1, 1, tzinfo=UTC))
    for _ in range(2):  # the replay is the same clear answer, never an IntegrityError
        [res] = transact(engine, apply_events, [cmd])
        assert res.status == "rejected" and "event_id: 150 characters, at most 128" in res.error
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.ledger_events)).scalar_one() == 0
