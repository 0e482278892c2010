"""``stockpilot alerts check | list | ack | resolve | history`` in process, on a workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from typer.testing import CliRunner

from stockpilot.cli.main import app
from stockpilot.domain.commands import ReceiveStock
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store.db import make_engine
from stockpilot.store.history import HistoryStore
from stockpilot.store.migrate import upgrade
from stockpilot.store.uow import transact


def test_check_list_ack_resolve_history(tmp_path, monkeypatch):
    for k in [k for k in __import__("os").environ if k.startswith("STOCKPILOT_")]:
        monkeypatch.delenv(k)
    eng = make_engine(f"sqlite:///{tmp_path / 'stockpilot.db'}")
    upgrade(eng)
    with eng.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "a"}])
        upsert_locations(conn, [{"location": "W"}])
    transact(eng, apply_events, [ReceiveStock(event_id="r", sku="A", location="W", quantity=3,
                                              occurred_at=datetime.now(UTC))])
    eng.dispose()
    hs = HistoryStore(tmp_path / "history")
    hs.write("plans", "latest", pl.DataFrame({"unique_id": ["A@W"], "reorder_point": [10],
                                              "protection_days": [14]}))
    hs.write("forecasts", "latest", pl.DataFrame({
        "unique_id": ["A@W"], "ds": [datetime.now(UTC).date() + timedelta(days=1)],
        "mean": [0.5]}))
    run = CliRunner()
    ws = ["-w", str(tmp_path)]
    out = run.invoke(app, ["alerts", "check", *ws])
    assert out.exit_code == 0, out.output
    assert "2 new alerts" in out.output and "below_reorder_point 1" in out.output
    assert "low_stock" in run.invoke(app, ["alerts", "list", *ws]).output
    assert run.invoke(app, ["alerts", "ack", "1", "--by", "ana", *ws]).exit_code == 0
    assert run.invoke(app, ["alerts", "resolve", "1", "--by", "ana", *ws]).exit_code == 0
    hist = run.invoke(app, ["alerts", "history", "1", *ws]).output
    assert [w for w in ("raised", "acked", "resolved") if w in hist] == [
        "raised", "acked", "resolved"] and "ana" in hist
    assert "0 new alerts" in run.invoke(app, ["alerts", "check", *ws]).output  # cooldown
