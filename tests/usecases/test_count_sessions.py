"""Cycle counting through the use cases, on SQLite and PostgreSQL.

A session freezes the book; sales during the session are accounted for (the variance is the
count against the book at the scan; approval posts it on the book at approval); a count past
the tolerance asks for a recount; only a planner-or-higher approves; scope hides sessions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from stockpilot.domain.commands import ReceiveStock, RecordSale
from stockpilot.errors import NotFound, UnknownSku
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.service import apply_events
from stockpilot.planning.counting import CountPolicy
from stockpilot.store import schema as t
from stockpilot.store.uow import reading, transact, writing
from stockpilot.usecases import count_posting, counting
from stockpilot.usecases.actor import Actor, Forbidden

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
POLICY = CountPolicy(tolerance_units=1, tolerance_pct=5.0)
PLANNER = Actor("planner", None, name="pat")
OPERATOR = Actor("operator", frozenset({"S"}), name="olga")


@pytest.fixture
def shop(engine):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": s, "unit_cost": c} for s, c in
                           (("A", 10), ("B", 2), ("C", 1))])
        upsert_locations(conn, [{"location": "S"}, {"location": "W"}])
    day = NOW - timedelta(days=60)
    events = [ReceiveStock(event_id=f"r-{s}-{loc}", sku=s, location=loc, quantity=100,
                           occurred_at=day) for s in "ABC" for loc in "SW"]
    # A sells every day until 20 days ago, then nothing: phantom-stock suspicion
    events += [RecordSale(event_id=f"s-A-{d}", sku="A", location="S", quantity=2,
                          occurred_at=day + timedelta(days=d)) for d in range(1, 40)]
    events += [RecordSale(event_id=f"s-B-{d}", sku="B", location="S", quantity=1,
                          occurred_at=NOW - timedelta(days=d)) for d in range(1, 10)]
    assert all(r.ok for r in transact(engine, apply_events, events))
    return engine


def _on_hand(engine, sku: str, loc: str = "S") -> int:
    s = t.stock.c
    with engine.connect() as conn:
        return int(conn.execute(select(s.on_hand).where(s.sku == sku, s.location == loc))
                   .scalar_one())


def test_list_ranks_phantom_suspect_first_and_respects_scope(shop):
    with reading(shop) as uow:
        rows = counting.list_due(uow, PLANNER, POLICY, location="S", due_only=False, now=NOW)
        scoped = counting.list_due(uow, Actor("planner", frozenset({"W"})), POLICY,
                                   due_only=False, now=NOW)
    assert rows[0]["sku"] == "A"
    assert rows[0]["phantom_p"] < 0.01 and rows[0]["anomaly"] > 2
    assert all(r["due"] for r in rows)  # never counted: every class is overdue
    assert {r["location"] for r in scoped} == {"W"}
    with reading(shop) as uow, pytest.raises(NotFound):
        counting.list_due(uow, Actor("planner", frozenset({"W"})), POLICY, location="S",
                          now=NOW)


def test_session_scan_recount_approve_with_sales_during_the_session(shop):
    with writing(shop) as uow:
        sid = counting.start_session(uow, PLANNER, "S", POLICY, now=NOW)
    frozen = _on_hand(shop, "B")  # 91
    # a sale of 3 B is recorded while the shelf is being counted
    transact(shop, apply_events, [RecordSale(event_id="during", sku="B", location="S", quantity=3,
                                   occurred_at=NOW)])
    with writing(shop) as uow:
        first = counting.scan(uow, OPERATOR, sid, "B", 80, POLICY, now=NOW)
    assert (first.frozen_on_hand, first.book_on_hand) == (frozen, frozen - 3)
    assert first.variance == 80 - (frozen - 3) and first.recount
    with writing(shop) as uow:
        second = counting.scan(uow, OPERATOR, sid, "B", 85, POLICY, now=NOW)
    assert second.status == "counted" and second.variance == 85 - (frozen - 3)
    # another sale between the count and the approval: it must survive the posting
    transact(shop, apply_events, [RecordSale(event_id="after", sku="B", location="S", quantity=1,
                                   occurred_at=NOW)])
    with writing(shop) as uow, pytest.raises(Forbidden):
        count_posting.approve(uow, Actor("viewer"), sid, now=NOW)
    with writing(shop) as uow:
        done = count_posting.approve(uow, PLANNER, sid, skus=["B"], now=NOW)
    assert done == [{"sku": "B", "variance": second.variance, "event_id": f"count:{sid}:B"}]
    assert _on_hand(shop, "B") == 85 - 1
    with reading(shop) as uow:
        hist = count_posting.variance_history(uow, PLANNER, "B")
        assert check_ledger(uow.conn) == []
    assert [(h["session_id"], h["first_counted"], h["counted"], h["variance"]) for h in hist] \
        == [(sid, 80, 85, second.variance)]
    assert hist[0]["variance_value"] == pytest.approx(2.0 * second.variance)


def test_within_tolerance_is_counted_at_once_and_zero_variance_posts_a_count(shop):
    with writing(shop) as uow:
        sid = counting.start_session(uow, PLANNER, "S", POLICY, skus=["C"], now=NOW)
        res = counting.scan(uow, OPERATOR, sid, "C", 100, POLICY, now=NOW)
    assert res.status == "counted" and res.variance == 0
    with writing(shop) as uow:
        count_posting.approve(uow, PLANNER, sid, now=NOW)
        sess = counting.get_session(uow, PLANNER, sid)
    assert sess["status"] == "closed"
    m = t.movements.c
    with shop.connect() as conn:
        kinds = conn.execute(select(m.kind, m.variance).where(m.event_id == f"count:{sid}:C"))
        assert [tuple(k) for k in kinds] == [(70, 0)]
    with reading(shop) as uow:  # just counted: no longer due
        due = counting.list_due(uow, PLANNER, POLICY, location="S", now=NOW)
    assert "C" not in {r["sku"] for r in due}


def test_barcode_scan_found_item_and_refusals(shop):
    with writing(shop) as uow:
        counting.add_barcodes(uow, PLANNER, {"4006381333931": "C"})
        sid = counting.start_session(uow, PLANNER, "S", POLICY, skus=["A"], now=NOW)
    with writing(shop) as uow:
        res = counting.scan(uow, OPERATOR, sid, "4006381333931", 100, POLICY, now=NOW)
    assert res.sku == "C" and res.status == "counted"  # not on the list: added as found
    with writing(shop) as uow, pytest.raises(UnknownSku):
        counting.scan(uow, OPERATOR, sid, "nope", 1, POLICY, now=NOW)
    with writing(shop) as uow, pytest.raises(counting.SessionConflict):
        counting.start_session(uow, PLANNER, "S", POLICY, now=NOW)  # one open per location
    with writing(shop) as uow, pytest.raises(counting.SessionConflict):
        count_posting.approve(uow, PLANNER, sid, skus=["A"], now=NOW)  # A not counted yet
    outsider = Actor("operator", frozenset({"W"}))
    with writing(shop) as uow, pytest.raises(NotFound):
        counting.scan(uow, outsider, sid, "A", 1, POLICY, now=NOW)
    with writing(shop) as uow, pytest.raises(Forbidden):
        counting.scan(uow, Actor("planner"), sid, "A", 1, POLICY, now=NOW)
    with reading(shop) as uow:
        assert counting.list_sessions(uow, outsider) == []
        assert [s["id"] for s in counting.list_sessions(uow, PLANNER)] == [sid]


def test_loss_bigger_than_the_book_left_at_approval_is_refused_whole(shop):
    with writing(shop) as uow:
        sid = counting.start_session(uow, PLANNER, "S", POLICY, skus=["C"], now=NOW)
        counting.scan(uow, OPERATOR, sid, "C", 10, POLICY, now=NOW)
        counting.scan(uow, OPERATOR, sid, "C", 10, POLICY, now=NOW)  # recount confirms
    transact(shop, apply_events, [RecordSale(event_id="big", sku="C", location="S", quantity=95,
                                   occurred_at=NOW)])
    with writing(shop) as uow, pytest.raises(counting.SessionConflict, match="recount"):
        count_posting.approve(uow, PLANNER, sid, now=NOW)
    assert _on_hand(shop, "C") == 5  # nothing half written
    with reading(shop) as uow:
        assert counting.get_session(uow, PLANNER, sid)["lines"][0]["status"] == "counted"


def test_two_approvers_at_once_post_each_line_once(shop):
    """Two planners press approve together: the second waits for the first and finds its
    lines posted; the ledger has one count movement and the right balance."""
    import threading

    with writing(shop) as uow:
        sid = counting.start_session(uow, PLANNER, "S", POLICY, skus=["C"], now=NOW)
        counting.scan(uow, OPERATOR, sid, "C", 99, POLICY, now=NOW)
    results: list[object] = []
    barrier = threading.Barrier(2)

    def approve() -> None:
        barrier.wait()
        try:
            with writing(shop) as uow:
                results.append(count_posting.approve(uow, PLANNER, sid, now=NOW))
        except counting.SessionConflict as exc:
            results.append(exc)

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    posted = [r for r in results if isinstance(r, list) and r]
    assert len(posted) == 1 and len(results) == 2
    assert _on_hand(shop, "C") == 99
    m = t.movements.c
    with shop.connect() as conn:
        n = conn.execute(select(m.id).where(m.event_id == f"count:{sid}:C")).all()
        assert len(n) == 1 and check_ledger(conn) == []
