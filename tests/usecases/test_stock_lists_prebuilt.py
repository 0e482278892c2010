"""The prebuilt /stock statements (lean API) agree with the plain positions query, on both
databases, for every filter shape; and each shape is built once."""

from __future__ import annotations

from datetime import UTC, datetime

from stockpilot.domain.commands import ReceiveStock
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.positions import get_positions
from stockpilot.ledger.service import apply_events
from stockpilot.store.uow import reading, transact
from stockpilot.usecases import stock_lists
from stockpilot.usecases.actor import Actor
from stockpilot.usecases.paging import CountCache, PageRequest


def test_pages_and_one_sku_agree_with_the_plain_query(engine):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": f"S{i}"} for i in range(7)])
        upsert_locations(conn, [{"location": loc} for loc in ("A", "B", "C")])
    now = datetime(2024, 1, 1, tzinfo=UTC)
    transact(engine, apply_events, [ReceiveStock(event_id=f"r{i}{loc}", sku=f"S{i}", location=loc,
                                       quantity=1 + (i * 7 + ord(loc)) % 11, occurred_at=now)
                          for i in range(7) for loc in ("A", "B", "C")])
    with engine.connect() as conn:
        every = get_positions(conn)
    scoped = Actor("viewer", frozenset({"A", "C"}))
    cases = [  # (actor, filters, sort, expected before paging)
        (Actor("viewer"), {}, "sku,location", every),
        (scoped, {}, "sku,location", [p for p in every if p.location in "AC"]),
        (scoped, {"sku": "S3"}, "sku,location", [p for p in every if p.sku == "S3"
                                                 and p.location in "AC"]),
        (Actor("viewer"), {"location": "B", "max_on_hand": 6}, "sku,location",
         [p for p in every if p.location == "B" and p.on_hand <= 6]),
        (Actor("viewer"), {}, "-on_hand,sku,location",
         sorted(every, key=lambda p: (-p.on_hand, p.sku, p.location))),
    ]
    counts = CountCache()
    with reading(engine) as uow:
        for actor, filters, sort, want in cases:
            for offset in (0, 4):
                rows, total, _ = stock_lists.list_positions(
                    uow, actor, PageRequest(4, offset, sort), counts, **filters)
                assert (rows, total) == (want[offset:offset + 4], len(want)), (filters, sort)
        rows, _, nxt = stock_lists.list_positions(uow, scoped, PageRequest(3, 0, "sku,location"),
                                                  counts)
        after, _, _ = stock_lists.list_positions(uow, scoped, PageRequest(3, 0, "sku,location"),
                                                 counts, after=nxt)
        assert after == [p for p in every if p.location in "AC"][3:6]
        hits = stock_lists._page_statements.cache_info().hits
        stock_lists.list_positions(uow, scoped, PageRequest(3, 0, "sku,location"), counts)
        assert stock_lists._page_statements.cache_info().hits == hits + 1  # built once
        assert stock_lists.stock_of(uow, scoped, "S2") == [p for p in every
                                                           if p.sku == "S2" and p.location in "AC"]
