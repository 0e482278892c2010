"""Exit codes tell the truth (issue 17 item 2): ``stock check`` with broken books exits 1."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from sqlalchemy import text

from stockpilot.domain.commands import ReceiveStock
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store.db import make_engine
from stockpilot.store.migrate import upgrade
from stockpilot.store.uow import transact


def _check(ws) -> subprocess.CompletedProcess[bytes]:  # type: ignore[no-untyped-def]
    return subprocess.run([sys.executable, "-m", "stockpilot", "stock", "check", "-w", str(ws)],
                          capture_output=True, timeout=120)


def test_stock_check_exits_1_on_broken_books_and_0_on_sound_ones(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    engine = make_engine(f"sqlite:///{ws / 'stockpilot.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "a"}])
        upsert_locations(conn, [{"location": "W"}])
    transact(engine, apply_events, [ReceiveStock(event_id="r1", sku="A", location="W", quantity=3,
                                                 occurred_at=datetime(2024, 1, 1, tzinfo=UTC))])
    assert _check(ws).returncode == 0
    with engine.begin() as conn:  # written behind the ledger: the replay disagrees
        conn.execute(text("UPDATE stock SET on_hand = 5"))
    engine.dispose()
    assert _check(ws).returncode == 1
