"""``stockpilot orders …``: edit lines, approve, list, show, send, receive (lots), cancel,
audit — in-process through the real Typer app on a SQLite workspace."""

from __future__ import annotations

import polars as pl
from typer.testing import CliRunner

from stockpilot.cli.common import workspace
from stockpilot.cli.main import app
from stockpilot.ledger.catalogue import (
    upsert_locations,
    upsert_skus,
    upsert_supplier_items,
    upsert_suppliers,
)


def _ws(tmp_path):
    w = workspace(tmp_path)
    with w.engine.begin() as conn:
        upsert_locations(conn, [{"location": "W"}])
        upsert_skus(conn, [{"sku": "a", "name": "Apple"}, {"sku": "b", "name": "Bean",
                                                           "lot_tracked": True}])
        upsert_suppliers(conn, [{"supplier": "S", "email": "s@example.test"}])
        upsert_supplier_items(conn, [{"supplier": "S", "sku": s, "lead_time_days": 5,
                                      "unit_cost": c} for s, c in (("a", 1.5), ("b", 2.0))])
    w.history.write("plans", "latest", pl.DataFrame([
        {"unique_id": "a@W", "sku": "a", "location": "W", "supplier": "S", "order_qty": 10,
         "order_value": 15.0, "klass": "AX", "reason": "low"},
        {"unique_id": "b@W", "sku": "b", "location": "W", "supplier": "S", "order_qty": 0,
         "order_value": 0.0, "klass": "BX", "reason": "ok"}]))


def run(tmp_path, *args: str, ok: bool = True) -> str:
    out = CliRunner().invoke(app, ["orders", *args, "-w", str(tmp_path)])
    assert (out.exit_code == 0) == ok, out.output
    return out.output + ("" if out.exception is None else str(out.exception))  # main() prints it


def test_orders_flow(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    _ws(tmp_path)
    run(tmp_path, "set-qty", "a", "W", "12", "--note", "round up", "--as", "ann")
    run(tmp_path, "add", "b", "W", "4", "--as", "ann")
    assert "│ 12 " in run(tmp_path, "lines").replace("│ 12    ", "│ 12 ")
    assert "purchase orders: 1" in run(tmp_path, "approve", "--line", "a@W", "--as", "bo")
    assert "purchase orders: 1 (approved before), 2" in run(tmp_path, "approve")
    listing = run(tmp_path, "list")
    assert "draft" in listing and f"{12 * 1.5:,.2f} EUR" in listing
    shown = run(tmp_path, "show", "1")
    assert "approved by bo" in shown and "Apple" in shown and "Bean" not in shown
    run(tmp_path, "send", "1", "--manual", "--pdf", str(tmp_path / "po.pdf"), "--as", "ann")
    assert (tmp_path / "po.pdf").read_bytes().startswith(b"%PDF-")
    assert "bad" in run(tmp_path, "receive", "1", "--line", "bad", ok=False)
    assert "lot" in run(tmp_path, "receive", "2", "--line", "1=4", ok=False)
    assert "partly received" in run(tmp_path, "receive", "1", "--line", "1=5",
                                    "--receipt", "d1", "--as", "ann")
    assert "· received" in run(tmp_path, "receive", "2", "--line", "1=4:L1:2030-02-01")
    assert "cancelled" in run(tmp_path, "cancel", "1", "--reason", "late")
    trail = run(tmp_path, "audit", "--po", "1")
    assert [a in trail for a in ("po.cancelled", "po.received", "po.sent", "po.approved")] \
        == [True] * 4
    assert "ann" in run(tmp_path, "audit", "--sku", "a")
    w = workspace(tmp_path)
    with w.engine.connect() as conn:
        rows = dict(conn.exec_driver_sql("SELECT sku, on_hand FROM stock").all())
        on_order = conn.exec_driver_sql("SELECT sum(on_order) FROM stock").scalar()
    assert rows == {"a": 5, "b": 4} and on_order == 0
