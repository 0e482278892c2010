"""``stockpilot counts list|start|scan|approve|history`` as a stock controller types them,
with the tolerance taken from the workspace's stockpilot.toml."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from stockpilot.cli.common import workspace
from stockpilot.cli.main import app
from stockpilot.domain.commands import ReceiveStock
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store.uow import transact
from stockpilot.usecases.counting import SessionConflict


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_count_cycle_from_the_shell(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "220")
    (tmp_path / "stockpilot.toml").write_text(
        "[stockpilot.counting]\ntolerance_units = 0\ntolerance_pct = 10.0\nc_days = 200\n")
    ws = str(tmp_path)
    engine = workspace(tmp_path).engine
    with engine.begin() as conn:
        upsert_locations(conn, [{"location": "W"}])
        upsert_skus(conn, [{"sku": "A", "unit_cost": 3}, {"sku": "B", "unit_cost": 1}])
    transact(engine, apply_events, [ReceiveStock(event_id=f"r{s}", sku=s, location="W", quantity=40,
                                       occurred_at=datetime.now(UTC) - timedelta(days=3))
                          for s in "AB"])
    listed = [json.loads(ln) for ln in
              invoke("counts", "list", "--json", "-w", ws).output.splitlines()]
    assert [(r["sku"], r["frequency_days"]) for r in listed] == [("A", 200), ("B", 200)]
    out = invoke("counts", "start", "W", "--sku", "A", "-w", ws)
    assert out.exit_code == 0 and "count session 1 open at W: 1 lines" in out.output, out.output
    out = invoke("counts", "scan", "1", "A", "35", "-w", ws)  # 5 > 10 % of 40 = 4
    assert "variance -5" in out.output and "RECOUNT" in out.output, out.output
    out = invoke("counts", "scan", "1", "A", "37", "-w", ws)
    assert "variance -3" in out.output and "RECOUNT" not in out.output
    out = invoke("counts", "approve", "1", "-w", ws)
    assert "A: variance -3 posted as count:1:A" in out.output, out.output
    hist = invoke("counts", "history", "A", "-w", ws).output
    row = next(ln for ln in hist.splitlines() if "│ W" in ln or " W " in ln)
    assert "-3" in row and "-9.00" in row
    again = invoke("counts", "approve", "1", "-w", ws)
    assert isinstance(again.exception, SessionConflict) and "closed" in str(again.exception)
