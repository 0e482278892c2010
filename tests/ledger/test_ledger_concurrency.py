"""8 processes hammer one SKU-location: never oversell, never lose an event (SQLite, PostgreSQL).

Each worker starts at a barrier and sends its own sales of 1 unit (plus a replay of each of
its event ids, which must change nothing). With 100 units on hand and 8 × 25 sales, exactly
100 sales are applied and 100 rejected, whatever the interleaving.
"""

from __future__ import annotations

import multiprocessing as mp
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from stockpilot.domain.commands import ReceiveStock, RecordSale
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.positions import get_positions
from stockpilot.ledger.service import apply_events
from stockpilot.store.uow import transact

WORKERS, SALES_EACH, STOCK = 8, 25, 100


def _worker(url: str, options: str | None, wid: int, barrier, out) -> None:  # type: ignore[no-untyped-def]
    from stockpilot.store.db import make_engine

    kw = {"connect_args": {"options": options}} if options else {}
    engine = make_engine(url, **kw)
    barrier.wait()
    statuses = []
    now = datetime.now(UTC)
    for i in range(SALES_EACH):
        sale = RecordSale(event_id=f"w{wid}-{i}", sku="HOT", location="W", quantity=1,
                          occurred_at=now)
        statuses.append(transact(engine, apply_events, [sale])[0].status)
        replay = transact(engine, apply_events, [sale])[0].status
        statuses.append(f"replay-{replay}")
    out.put(statuses)
    engine.dispose()


def _hammer(engine, url: str, options: str | None) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "HOT", "name": "hot item"}])
        upsert_locations(conn, [{"location": "W"}])
    transact(engine, apply_events, [ReceiveStock(event_id="stock-in", sku="HOT", location="W",
                                                 quantity=STOCK, occurred_at=datetime.now(UTC))])
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, options, w, barrier, out))
             for w in range(WORKERS)]
    for p in procs:
        p.start()
    statuses = [s for _ in procs for s in out.get(timeout=300)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return statuses


def _assert_exact(engine, statuses: list[str]) -> None:  # type: ignore[no-untyped-def]
    sales = [s for s in statuses if not s.startswith("replay-")]
    replays = [s for s in statuses if s.startswith("replay-")]
    assert sales.count("applied") == STOCK
    assert sales.count("rejected") == WORKERS * SALES_EACH - STOCK
    # a replay of an applied sale is a duplicate; of a rejected one, re-evaluated and rejected
    assert replays.count("replay-duplicate") == STOCK
    assert replays.count("replay-rejected") == WORKERS * SALES_EACH - STOCK
    with engine.connect() as conn:
        [pos] = get_positions(conn, sku="HOT", location="W")
        assert (pos.on_hand, pos.available) == (0, 0)
        assert check_ledger(conn) == []
        n = conn.execute(text("select count(*) from movements where kind = 20")).scalar_one()
        assert n == STOCK


@pytest.mark.slow
def test_eight_processes_on_sqlite(sqlite_engine):
    statuses = _hammer(sqlite_engine, str(sqlite_engine.url), None)
    _assert_exact(sqlite_engine, statuses)


@pytest.mark.slow
@pytest.mark.postgres
def test_eight_processes_on_postgres(pg_url):
    from stockpilot.store.db import make_engine
    from stockpilot.store.migrate import upgrade

    schema = f"c_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    options = f"-csearch_path={schema}"
    engine = make_engine(pg_url, connect_args={"options": options})
    try:
        upgrade(engine)
        statuses = _hammer(engine, pg_url, options)
        _assert_exact(engine, statuses)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
