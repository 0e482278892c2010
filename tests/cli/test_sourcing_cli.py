"""``stockpilot sourcing import/show`` and ``stockpilot transit list/receive``."""

from __future__ import annotations

from datetime import UTC, datetime

from typer.testing import CliRunner

from stockpilot.cli.common import workspace
from stockpilot.cli.main import app
from stockpilot.domain.commands import ReceiveStock
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store.uow import transact
from stockpilot.usecases.transit import Shipment, ship


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_routes_import_show_and_toml_override(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    engine = workspace(tmp_path).engine
    with engine.begin() as conn:
        upsert_locations(conn, [{"location": x} for x in ("DC", "S1", "S2")])
    bad = tmp_path / "bad.csv"
    bad.write_text("location,source\nS1,dc:DC\nS9,dc:DC\nS2,truck\n")
    out = invoke("sourcing", "import", str(bad), "-w", str(tmp_path))
    assert out.exit_code != 0
    assert "S9" in str(out.exception) and "truck" in str(out.exception)
    good = tmp_path / "routes.csv"
    good.write_text("location,source\nDC,supplier\nS1,dc:DC\nS2,dc:DC\n")
    assert invoke("sourcing", "import", str(good), "-w", str(tmp_path)).exit_code == 0
    (tmp_path / "stockpilot.toml").write_text('[sourcing]\nS2 = "supplier"\n')
    shown = invoke("sourcing", "show", "-w", str(tmp_path)).output
    rows = {ln.split()[1]: ln for ln in shown.splitlines() if ln.startswith("│ ")}
    assert "dc" in rows["S1"] and "DC" in rows["S1"]
    assert "supplier" in rows["S2"]  # the toml wins over the import


def test_transit_list_and_receive(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    engine = workspace(tmp_path).engine
    with engine.begin() as conn:
        upsert_locations(conn, [{"location": "DC"}, {"location": "S1"}])
        upsert_skus(conn, [{"sku": "A", "name": "A"}])
    now = datetime(2024, 6, 1, tzinfo=UTC)
    transact(engine, apply_events, [ReceiveStock(event_id="r", sku="A", location="DC", quantity=50,
                                                 occurred_at=now)])
    (sid,) = transact(engine, ship, [Shipment("t1", "A", "DC", "S1", 20)], now)
    listed = invoke("transit", "list", "-w", str(tmp_path)).output
    assert "DC" in listed and "S1" in listed and "20" in listed
    assert invoke("transit", "receive", str(sid), "-w", str(tmp_path)).exit_code == 0
    assert "S1" not in invoke("transit", "list", "-w", str(tmp_path)).output
