"""``stockpilot lead-times``: stated vs measured per supplier in the terminal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from stockpilot.cli.common import workspace
from stockpilot.cli.main import app
from stockpilot.ledger.catalogue import (
    upsert_locations,
    upsert_skus,
    upsert_supplier_items,
    upsert_suppliers,
)
from stockpilot.ledger.purchasing import OrderLine, create_purchase_order, receive_purchase_order
from stockpilot.store.uow import transact


def test_lead_times_table(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    engine = workspace(tmp_path).engine
    with engine.begin() as conn:
        upsert_locations(conn, [{"location": "W"}])
        upsert_skus(conn, [{"sku": "a", "name": "a"}, {"sku": "b", "name": "b"}])
        upsert_suppliers(conn, [{"supplier": "S"}, {"supplier": "T"}])
        upsert_supplier_items(conn, [{"supplier": "S", "sku": "a", "lead_time_days": 14},
                                     {"supplier": "T", "sku": "b", "lead_time_days": 10}])
    for n in range(6):
        po, _ = transact(engine, create_purchase_order,
                         "T", [OrderLine("b", "W", 1)], reference=f"t{n}")
        transact(engine, receive_purchase_order,
                 po, occurred_at=datetime.now(UTC) + timedelta(days=16))
    out = CliRunner().invoke(app, ["lead-times", "-w", str(tmp_path)])
    assert out.exit_code == 0, out.output
    lines = {ln.split()[1]: ln for ln in out.output.splitlines() if ln.startswith("│ ")}
    assert "stated (too few receipts)" in lines["S"] and "14.0" in lines["S"]
    # 6 receipts of 16 d against a stated 10: Z = 6/11 → 10 + 6/11·6 = 13.3
    assert "16.0" in lines["T"] and "13.3" in lines["T"] and "learned" in lines["T"]
